using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EventSourcedRegistry.Benchmarks.Infrastructure;

/// <summary>
/// The API under test, launched from its build output as a child process on a loopback port, exactly as an
/// operator would run it with <c>ConnectionStrings__Registry</c> set. A process of its own keeps the load
/// generator's allocations and GC pauses out of the server's numbers.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly Queue<string> _tail = new();

    private ApiProcess(Process process, Uri baseAddress, string assembly)
    {
        _process = process;
        BaseAddress = baseAddress;
        Assembly = assembly;
    }

    public Uri BaseAddress { get; }
    public string Assembly { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    public static string Locate(string? configured)
    {
        var path = configured ?? Path.Combine(RepoPaths.Root, "src", "EventSourcedRegistry.Api", "bin", BuildInfo.Configuration, "net10.0",
            "EventSourcedRegistry.Api.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"The API assembly '{path}' does not exist; build the solution in {BuildInfo.Configuration} first or pass --api <dll>.");
    }

    /// <summary>
    /// The bootstrap admin key every API process of a run starts with (stored hashed on the first start; later
    /// processes on the same database find it there). <see cref="Authorize"/> makes a client send it.
    /// </summary>
    public static string AdminKey { get; } = $"esr_bench_{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}";

    public static HttpClient Authorize(HttpClient http)
    {
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", AdminKey);
        return http;
    }

    public static async Task<ApiProcess> StartAsync(string assembly, string connectionString, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        info.Environment["ConnectionStrings__Registry"] = connectionString;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Registry__BootstrapAdminKey"] = AdminKey;
        // The command scenarios measure the transition itself: with four-eyes approval on, a promotion to Production
        // would only record a request (202). Approvals are off in the measured API, as on the tests' shared host.
        info.Environment["Registry__Approvals__ProtectedStages"] = "";
        info.Environment["Registry__Approvals__ProtectedAliases"] = "";
        // The harness measures the server's capacity with one admin key standing for many clients: a per-caller rate
        // limit (by default 200 commands and 1,000 reads a second per key) would measure the limit instead.
        info.Environment["Registry__RateLimits__Enabled"] = "false";
        // The webhook scenario's receiver listens on loopback, which the registry never calls unless allowed (SSRF).
        info.Environment["Registry__Webhooks__AllowedTargets"] = "127.0.0.1";
        info.Environment.Remove("ASPNETCORE_URLS");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;

        var process = new Process { StartInfo = info };
        var api = new ApiProcess(process, baseAddress, assembly);
        DataReceivedEventHandler keep = (_, e) => api.Keep(e.Data);
        process.OutputDataReceived += keep;
        process.ErrorDataReceived += keep;
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await api.WaitUntilReadyAsync(ct);
            return api;
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    /// <summary>The API's last output lines, for failure messages.</summary>
    public string Tail()
    {
        lock (_tail) return string.Join(Environment.NewLine, _tail);
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > 40) _tail.Dequeue();
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The API exited with code {_process.ExitCode} during startup:{Environment.NewLine}{Tail()}");
            try
            {
                using var response = await http.GetAsync("/health/ready", ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // A probe timed out while the API was still starting.
            }
            if (clock.Elapsed > ReadyTimeout)
                throw new TimeoutException($"The API was not ready within {ReadyTimeout}:{Environment.NewLine}{Tail()}");
            await Task.Delay(200, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // SIGTERM lets the host stop gracefully; a kill follows only if it does not.
                if (!OperatingSystem.IsWindows())
                {
                    using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    await term.WaitForExitAsync();
                }
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                try
                {
                    await _process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        finally
        {
            _process.Dispose();
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
