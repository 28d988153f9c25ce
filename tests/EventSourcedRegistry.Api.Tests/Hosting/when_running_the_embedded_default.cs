using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace EventSourcedRegistry.Api.Tests.Hosting;

/// <summary>
/// The README's run command, for real: the built API started as its own process with no connection string,
/// so it starts the embedded PostgreSQL in a data directory; stopped with SIGTERM and started again.
/// </summary>
public sealed class when_running_the_embedded_default : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "esr-default-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task it_gets_ready_and_keeps_a_registered_model_across_a_restart()
    {
        var sha = new string('c', 64);
        await using (var first = await ApiProcess.Start(_dataDirectory))
        {
            var registered = await first.Client.PostAsJsonAsync("/api/v1/models", new { name = "kept-across-restarts" });
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            var version = await first.Client.PostAsJsonAsync("/api/v1/models/kept-across-restarts/versions",
                new { artifact = new { uri = "file:///models/a.bin", sha256 = sha } });
            Assert.Equal(HttpStatusCode.Created, version.StatusCode);
            await first.Stop();
            Assert.False(File.Exists(Path.Combine(_dataDirectory, "postgres", "postmaster.pid")),
                "stopping the app stops its PostgreSQL");
        }

        await using var second = await ApiProcess.Start(_dataDirectory);
        var model = await second.Client.GetFromJsonAsync<JsonObject>("/api/v1/models/kept-across-restarts");
        Assert.Equal(1, model!["latestVersion"]!.GetValue<int>());
        var stored = await second.Client.GetFromJsonAsync<JsonObject>("/api/v1/models/kept-across-restarts/versions/1");
        Assert.Equal(sha, stored!["artifact"]!["sha256"]!.GetValue<string>());
    }

    private sealed class ApiProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _output = new();

        private ApiProcess(Process process, HttpClient client)
        {
            _process = process;
            Client = client;
        }

        public HttpClient Client { get; }

        public static async Task<ApiProcess> Start(string dataDirectory)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { ApiAssembly(), "--urls", $"http://127.0.0.1:{port}" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(ApiAssembly())!,
            };
            // The embedded default: no connection string at all (the test host's own one must not leak in).
            start.Environment.Remove("ConnectionStrings__Registry");
            start.Environment["Registry__DataDirectory"] = dataDirectory;
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

            var process = Process.Start(start)!;
            var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            var api = new ApiProcess(process, client);
            process.OutputDataReceived += (_, e) => { lock (api._output) api._output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (api._output) api._output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            // Issue 2 asks for ready within 30 s; this shared 2-core machine gets a generous margin in tests.
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(90))
            {
                if (process.HasExited) break;
                try
                {
                    var ready = await client.GetAsync("/health/ready");
                    if (ready.IsSuccessStatusCode) return api;
                }
                catch (HttpRequestException) { }
                await Task.Delay(250);
            }
            await api.DisposeAsync();
            throw new InvalidOperationException($"The API did not get ready:\n{api.Output}");
        }

        public string Output { get { lock (_output) return _output.ToString(); } }

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

        private static string ApiAssembly()
        {
            // The API's own build output (it has its runtimeconfig and deps), in the configuration the tests were built in.
            var testBin = new DirectoryInfo(AppContext.BaseDirectory);
            var framework = testBin.Name;
            var configuration = testBin.Parent!.Name;
            var root = testBin;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "EventSourcedRegistry.sln"))) root = root.Parent;
            return Path.Combine(root!.FullName, "src", "EventSourcedRegistry.Api", "bin", configuration, framework, "EventSourcedRegistry.Api.dll");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int sig);
    }
}
