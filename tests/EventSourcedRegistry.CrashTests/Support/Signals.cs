using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace EventSourcedRegistry.CrashTests.Support;

/// <summary>Signals by PID, and the postmaster of a data directory this suite started (other servers run on the machine).</summary>
public static class Signals
{
    private const int SigInt = 2;
    private const int SigKill = 9;
    private const int SigTerm = 15;

    public static void Kill(int pid) => kill(pid, SigKill);

    /// <summary>SIGINT: PostgreSQL's fast shutdown.</summary>
    public static void Interrupt(int pid) => kill(pid, SigInt);

    public static void Terminate(int pid) => kill(pid, SigTerm);

    public static bool IsAlive(int pid)
    {
        // A zombie still answers kill(0); /proc says whether it is one.
        if (kill(pid, 0) != 0) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The postmaster's PID from the cluster's lock file (the embedded cluster lives in <c>data/postgres</c>).</summary>
    public static int PostmasterOf(string dataDirectory)
    {
        var lockFile = Path.Combine(dataDirectory, "postgres", "postmaster.pid");
        return int.Parse(File.ReadLines(lockFile).First().Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>The direct children of a process (a postmaster's backends and helpers), from /proc.</summary>
    public static IReadOnlyList<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var candidate)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == pid) children.Add(candidate);
            }
            catch (IOException) { }
        }
        return children;
    }

    public static async Task WaitUntilGone(int pid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (IsAlive(pid))
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"PID {pid} was still alive after {timeout}.");
            await Task.Delay(20);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
