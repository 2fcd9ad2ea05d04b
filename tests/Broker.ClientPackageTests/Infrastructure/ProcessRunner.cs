using System.Diagnostics;

namespace Broker.ClientPackageTests.Infrastructure;

/// <summary>Runs a tool (node, npm, dotnet) to its end within a deadline; on the deadline the whole process tree is killed.</summary>
public static class ProcessRunner
{
    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    /// <exception cref="InvalidOperationException">The tool is not installed (run ./test.sh), or it did not finish in time.</exception>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var command = fileName + " " + string.Join(' ', start.ArgumentList);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{fileName} is not installed ({e.Message}); ./test.sh installs what the tests need.", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                await process.WaitForExitAsync().WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"`{command}` did not finish within {timeout}.");
            }

            return new ProcessResult(command, process.ExitCode, await stdout.WaitAsync(timeout), await stderr.WaitAsync(timeout));
        }
    }
}
