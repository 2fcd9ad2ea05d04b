namespace Broker.ClientPackageTests.Infrastructure;

/// <summary>How a process ended: its exit code and everything it wrote.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Standard output and standard error together, for assertion messages.</summary>
    public string Output => $"$ {Command}\n(exit {ExitCode})\n{StandardOutput}\n{StandardError}";

    /// <summary>Throws with the whole output unless the process exited with 0.</summary>
    public ProcessResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException("The command failed:\n" + Output);
}
