using System.Runtime.InteropServices;

namespace Broker.LoadTest;

/// <summary>
/// The process's limit on open files (RLIMIT_NOFILE), raised before a run that holds tens of thousands of sockets.
/// Every client socket is a descriptor here and every accepted one a descriptor in the server, which inherits the
/// limit: the servers started after the raise (the broker's and SignalR's .NET runtime, nats-server's Go runtime)
/// each lift their own soft limit to this hard one at start-up.
/// </summary>
internal static partial class FileDescriptorLimit
{
    // RLIMIT_NOFILE in Linux's asm-generic/resource.h (x86-64 and arm64 alike).
    private const int RlimitNoFile = 7;

    /// <summary>
    /// Descriptors beyond the sockets: the runtime's own (epoll, eventfds, pipes to the servers), the listeners, the
    /// publisher. A few dozen in practice; 1,024 leaves room without refusing a run that the limit would hold (at a
    /// hard limit of 20,000, 18,000 sockets still run).
    /// </summary>
    public const int Headroom = 1024;

    /// <summary>
    /// Makes at least <paramref name="needed"/> descriptors available to this process and the servers it starts.
    /// The soft limit rises to the hard one freely; a hard limit below <paramref name="needed"/> rises only for root
    /// (CAP_SYS_RESOURCE, up to /proc/sys/fs/nr_open). Returns null when it is done, else what to run instead.
    /// </summary>
    public static string? Ensure(long needed)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;  // the load test reads /proc: Linux only
        }

        if (GetRLimit(RlimitNoFile, out var limit) != 0)
        {
            return $"getrlimit failed (errno {Marshal.GetLastPInvokeError()})";
        }

        if (limit.Current >= (ulong)needed)
        {
            return null;
        }

        var raised = new RLimit { Current = (ulong)needed, Maximum = Math.Max(limit.Maximum, (ulong)needed) };
        if (SetRLimit(RlimitNoFile, in raised) == 0)
        {
            return null;
        }

        // Without CAP_SYS_RESOURCE (a container may withhold it even from root) the hard limit stays: the server would
        // hit it too, one descriptor per socket, so no spreading of the client over processes would help.
        return $"{needed:N0} open files are needed here and in each server (one per socket), and the limit is {limit.Current:N0} (hard {limit.Maximum:N0}), which this process cannot raise (errno {Marshal.GetLastPInvokeError()}): start the load test from a shell whose hard limit allows it (`ulimit -Hn {needed} && ulimit -n {needed}` as root with CAP_SYS_RESOURCE), or use fewer sockets";
    }

    /// <summary>The current soft limit, or -1 where it cannot be read.</summary>
    public static long Current() => OperatingSystem.IsLinux() && GetRLimit(RlimitNoFile, out var limit) == 0 ? (long)Math.Min(limit.Current, long.MaxValue) : -1;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    // .NET raises the soft limit to the hard one at start-up but has no API to go past it; this is two libc calls,
    // as RedisServer's kill(2) is one (a package for them would be a pin in the shared Directory.Packages.props).
    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
