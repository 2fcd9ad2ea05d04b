namespace Broker.ClientPackageTests.Infrastructure;

/// <summary>A fresh directory under the system's temp folder, outside the repository, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    /// <summary>Makes the directory, named after <paramref name="purpose"/> plus a random suffix.</summary>
    public TempDirectory(string purpose)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"broker-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>A path inside the directory.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Deletes the directory and everything in it; a failure to delete does not fail the test.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
