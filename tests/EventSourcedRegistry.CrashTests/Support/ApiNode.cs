using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

using EventSourcedRegistry.Testing;

namespace EventSourcedRegistry.CrashTests.Support;

/// <summary>
/// The built API as a process of its own, as README's run command starts it: a real Kestrel, a real PostgreSQL
/// (embedded or given), and a PID to SIGKILL. Every process a test kills is one it started (or that one's postmaster).
/// </summary>
public sealed class ApiNode : IAsyncDisposable
{
    public const string AdminKey = "esr_bootstrap_crash-admin-secret-that-is-long-enough-0123456789";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ApiNode(string name, Process process, Uri baseAddress)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
    }

    public string Name { get; }
    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Starts the API and waits (generously: the machine is shared) until <c>/health/ready</c> answers 200.</summary>
    public static async Task<ApiNode> Start(string name, IReadOnlyDictionary<string, string?> environment, int? port = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(LocalProcesses.ApiAssembly())!,
        };
        var address = new Uri($"http://127.0.0.1:{port ?? LocalProcesses.FreePort()}/");
        start.ArgumentList.Add(LocalProcesses.ApiAssembly());
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(address.ToString().TrimEnd('/'));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Registry__BootstrapAdminKey"] = AdminKey;
        // The embedded default unless a test says otherwise; a connection string inherited from the runner must not leak in.
        start.Environment.Remove("ConnectionStrings__Registry");
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // Marten logs every lost optimistic-concurrency race (which the API re-decides) as an error: noise here.
        start.Environment["Logging__LogLevel__Marten.IDocumentStore"] = "Critical";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var node = new ApiNode(name, process, address);
        process.OutputDataReceived += (_, e) => { lock (node._output) node._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (node._output) node._output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (await node.WaitUntilReady(TimeSpan.FromSeconds(120))) return node;
        var output = node.Output;
        await node.DisposeAsync();
        throw new InvalidOperationException($"API node {name} did not get ready:\n{output}");
    }

    public async Task<bool> IsReady()
    {
        try
        {
            using var response = await Probe.GetAsync(new Uri(BaseAddress, "health/ready"));
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public async Task<bool> WaitUntilReady(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_process.HasExited)
        {
            if (await IsReady()) return true;
            await Task.Delay(100);
        }
        return false;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like the OOM killer or a lost container.</summary>
    public async Task Kill()
    {
        if (_process.HasExited) return;
        Signals.Kill(_process.Id);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a service manager stops it, then wait for the clean exit.</summary>
    public async Task Stop()
    {
        if (_process.HasExited) return;
        Signals.Terminate(_process.Id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { await Kill(); }
    }

    public async ValueTask DisposeAsync()
    {
        await Stop();
        _process.Dispose();
    }

    // Readiness is asked with a short timeout of its own: a probe must not hang on a stopped node.
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(5) };


}
