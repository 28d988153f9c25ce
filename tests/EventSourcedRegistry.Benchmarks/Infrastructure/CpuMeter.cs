using System.Globalization;

namespace EventSourcedRegistry.Benchmarks.Infrastructure;

/// <summary>CPU seconds spent so far by the API, by PostgreSQL (postmaster and its backends), by this harness, and by the whole machine.</summary>
public sealed record CpuSnapshot(double Api, double Postgres, double Harness, double MachineBusy, double MachineTotal);

/// <summary>CPU per operation of a measured phase, and how busy the machine was meanwhile (others' work included).</summary>
public sealed record CpuUsage(double ApiMicros, double PostgresMicros, double HarnessMicros, double MachineBusyPercent, double OthersPercent);

/// <summary>
/// Where the CPU of a phase went, from /proc (Linux only; elsewhere nothing is reported). On a 2-core machine
/// shared with others this is the cheapest honest profile: it says whether the API, PostgreSQL or the load
/// generator is the bottleneck, and how much of the machine other work took.
/// </summary>
public sealed class CpuMeter(int? apiPid, int postmasterPid)
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux architecture .NET runs on

    public CpuSnapshot? Take()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var api = apiPid is { } pid0 ? ProcessSeconds(pid0) ?? 0 : 0;
            var postgres = ProcessSeconds(postmasterPid) ?? 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
                if (ParentOf(pid) == postmasterPid) postgres += ProcessSeconds(pid) ?? 0;
            }
            var harness = Environment.CpuUsage.TotalTime.TotalSeconds;
            var (busy, total) = Machine();
            return new CpuSnapshot(api, postgres, harness, busy, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public static CpuUsage? Between(CpuSnapshot? before, CpuSnapshot? after, int operations)
    {
        if (before is null || after is null || operations == 0) return null;
        double PerOp(double seconds) => seconds * 1e6 / operations;
        var total = after.MachineTotal - before.MachineTotal;
        var busy = after.MachineBusy - before.MachineBusy;
        var ours = after.Api - before.Api + after.Postgres - before.Postgres + after.Harness - before.Harness;
        return new CpuUsage(
            PerOp(after.Api - before.Api), PerOp(after.Postgres - before.Postgres), PerOp(after.Harness - before.Harness),
            total > 0 ? 100 * busy / total : 0,
            total > 0 ? Math.Max(0, 100 * (busy - ours) / total) : 0);
    }

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // The command name is parenthesised and may hold spaces: fields start after the last ')'. [0] = state.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // exited meanwhile
        }
    }

    private static int? ParentOf(int pid) =>
        StatFields(pid) is { } f ? int.Parse(f[1], CultureInfo.InvariantCulture) : null;

    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, i.e. [11] and [12] after the name.
    private static double? ProcessSeconds(int pid) =>
        StatFields(pid) is { } f
            ? (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / TicksPerSecond
            : null;

    private static (double Busy, double Total) Machine()
    {
        // "cpu  user nice system idle iowait irq softirq steal ..."
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Take(8).Sum();
        var idle = fields[3] + fields[4];
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }
}
