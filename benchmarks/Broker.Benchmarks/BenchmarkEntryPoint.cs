using BenchmarkDotNet.Running;

namespace Broker.Benchmarks;

/// <summary>
/// Entry point. `dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*'` runs every
/// scenario; BenchmarkSwitcher lets README name one with --filter. (Not a top-level Program: the broker's
/// own public Program type would collide with it.)
/// </summary>
public static class BenchmarkEntryPoint
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntryPoint).Assembly).Run(args);
}
