using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace EventSourcedRegistry.CrashTests.Support;

/// <summary>
/// Base of a crash scenario: throwaway directories, one HTTP client for every node, and cleanup that stops every
/// process the scenario started (API nodes by PID, and an embedded postmaster left behind in its own data directory).
/// </summary>
public abstract class CrashScenario : IAsyncLifetime
{
    private readonly List<string> _directories = [];
    private readonly List<ApiNode> _nodes = [];

    protected CrashScenario(ITestOutputHelper output, string scenario)
    {
        Output = output;
        Figures = new Figures(scenario, output);
        RunId = Guid.NewGuid().ToString("N")[..8];
    }

    protected ITestOutputHelper Output { get; }
    protected Figures Figures { get; }
    protected string RunId { get; }

    // Generous: a request may wait on a PostgreSQL in crash recovery on a loaded machine.
    protected HttpClient Http { get; } = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    protected string NewDirectory(string prefix)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"esr-crash-{prefix}-{RunId}");
        _directories.Add(directory);
        return directory;
    }

    protected async Task<ApiNode> StartNode(string name, IReadOnlyDictionary<string, string?> environment)
    {
        var node = await ApiNode.Start(name, environment);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Every node's output, for a failure's report.</summary>
    protected void WriteNodeOutputs()
    {
        foreach (var node in _nodes) Output.WriteLine($"--- node {node.Name} (PID {node.Pid})\n{node.Output}");
    }

    /// <summary>Kills what a SIGKILL of the whole PostgreSQL would: the postmaster and every process it forked.</summary>
    protected static void KillPostgresTree(string dataDirectory)
    {
        var postmaster = Signals.PostmasterOf(dataDirectory);
        var children = Signals.ChildrenOf(postmaster);
        Signals.Kill(postmaster);
        foreach (var child in children) Signals.Kill(child);
    }

    /// <summary>Waits until readiness goes red and then green again; both times measured from now.</summary>
    protected static async Task<(TimeSpan Red, TimeSpan Green)> WatchReadiness(ApiNode node, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan? red = null;
        while (clock.Elapsed < timeout)
        {
            var ready = await node.IsReady();
            if (!ready && red is null) red = clock.Elapsed;
            if (ready && red is not null) return (red.Value, clock.Elapsed);
            await Task.Delay(50);
        }
        throw new TimeoutException(red is null
            ? $"{node.Name}'s readiness never went red within {timeout}."
            : $"{node.Name}'s readiness went red after {red.Value.TotalSeconds:F1} s and was not green again within {timeout}.");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        foreach (var directory in _directories)
        {
            await StopLeftPostmaster(directory);
            try { if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        Http.Dispose();
    }

    // A node that adopted its PostgreSQL leaves it running when it stops; this scenario started it, so it stops it.
    private static async Task StopLeftPostmaster(string directory)
    {
        var lockFile = Path.Combine(directory, "postgres", "postmaster.pid");
        if (!File.Exists(lockFile)) return;
        if (!int.TryParse(File.ReadLines(lockFile).First().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return;
        if (!Signals.IsAlive(pid)) return;
        try
        {
            var cwd = new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            if (cwd is null || Path.GetFullPath(cwd) != Path.GetFullPath(Path.Combine(directory, "postgres"))) return;
        }
        catch (IOException) { return; }
        Signals.Interrupt(pid);
        try { await Signals.WaitUntilGone(pid, TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { Signals.Kill(pid); }
    }
}
