using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

using EventSourcedRegistry.Testing;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// The built API as a process of its own on a free loopback port, as README's run command starts it: for tests
/// that need a real Kestrel, a real process boundary (memory, signals) or the embedded default.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private ApiProcess(Process process, HttpClient client)
    {
        _process = process;
        Client = client;
    }

    public HttpClient Client { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public const string BootstrapKeyVariable = "Registry__BootstrapAdminKey";

    /// <summary>
    /// Starts the API with these environment variables (null removes one) and waits until it is ready. Unless the
    /// variables say otherwise it starts with the tests' bootstrap admin key, which <see cref="Client"/> sends.
    /// </summary>
    public static async Task<ApiProcess> Start(IReadOnlyDictionary<string, string?> environment, TimeSpan requestTimeout)
    {
        var port = LocalProcesses.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { LocalProcesses.ApiAssembly(), "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(LocalProcesses.ApiAssembly())!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment[BootstrapKeyVariable] = AppFixture.AdminKey;
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = requestTimeout };
        if (start.Environment.TryGetValue(BootstrapKeyVariable, out var key) && key is not null) client.DefaultRequestHeaders.Authorization = new("ApiKey", key);
        var api = new ApiProcess(process, client);
        process.OutputDataReceived += (_, e) => { lock (api._output) api._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (api._output) api._output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Issue 2 asks for ready within 30 s (the benchmark measures it); this shared 2-core machine gets a generous margin in
        // tests: a start beside the other suites under a load of 30 and more once took longer than 90 s.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(180) && !process.HasExited)
        {
            try
            {
                if ((await client.GetAsync("/health/ready")).IsSuccessStatusCode) return api;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        // An exited process's last lines may still be on their way through the redirected pipes: wait for their end.
        if (process.HasExited) process.WaitForExit();
        var output = api.Output;
        await api.DisposeAsync();
        throw new InvalidOperationException($"The API did not get ready:\n{output}");
    }

    /// <summary>The bootstrap admin key the process printed on its first start, once its output shows it.</summary>
    public async Task<string?> PrintedKey()
    {
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var match = System.Text.RegularExpressions.Regex.Match(Output, @"^\s+(esr_[0-9a-f]+_[A-Za-z0-9_-]+)\s*$", System.Text.RegularExpressions.RegexOptions.Multiline);
            if (match.Success) return match.Groups[1].Value;
            await Task.Delay(50);
        }
        return null;
    }

    /// <summary>The process's resident memory, from /proc.</summary>
    public long ResidentBytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>SIGTERM, as a service manager or Ctrl+C would stop it, then wait for a clean exit.</summary>
    public async Task Stop()
    {
        if (_process.HasExited) return;
        kill(_process.Id, 15);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try { await Stop(); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        Client.Dispose();
        _process.Dispose();
    }



    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
