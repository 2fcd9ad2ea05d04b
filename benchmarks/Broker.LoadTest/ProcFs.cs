using System.Globalization;

namespace Broker.LoadTest;

/// <summary>A child process's CPU time and memory, read from Linux's /proc: the same numbers for every server.</summary>
internal static class ProcFs
{
    // USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks, 100 per second on every Linux the runtime supports.
    private const double ClockTicksPerSecond = 100;

    /// <summary>User plus system CPU time so far.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
    }

    /// <summary>A memory line of /proc/&lt;pid&gt;/status (<c>VmHWM:</c>, <c>VmRSS:</c>), in bytes; 0 when absent.</summary>
    public static long Status(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var kib = line[key.Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
