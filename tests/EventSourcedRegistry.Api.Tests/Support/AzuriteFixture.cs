using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Azure.Storage.Blobs;
using EventSourcedRegistry.Api.Artifacts;

using EventSourcedRegistry.Testing;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// Azurite's blob service, as pinned in <c>tools/azurite</c> (installed with <c>npm ci</c> here if it is not yet),
/// started on a free loopback port the first time a test asks for it and stopped by its pid at the end of the
/// run. In memory only: nothing is left on disk. Each test gets a container of its own.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    // Azurite's documented development account: a public, well-known key, not a secret.
    private const string Account = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _starting = new(1, 1);
    private readonly System.Text.StringBuilder _output = new();
    private Process? _process;
    private int _containers;

    public string ConnectionString { get; private set; } = "";
    public BlobServiceClient Service { get; private set; } = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Starts Azurite unless it already runs; safe to call from every test.</summary>
    public async Task StartAsync()
    {
        await _starting.WaitAsync();
        try
        {
            if (_process is { HasExited: false }) return;
            var directory = ToolDirectory();
            await EnsureInstalledAsync(directory);
            for (var attempt = 1; ; attempt++)
            {
                var port = LocalProcesses.FreePort();
                if (await TryStartAsync(directory, port)) break;
                if (attempt == 3) throw new InvalidOperationException($"Azurite did not start:\n{Output}");
            }
        }
        finally
        {
            _starting.Release();
        }
    }

    /// <summary>A new, empty container for one test (names are unique within the run).</summary>
    public async Task<BlobContainerClient> CreateContainerAsync(string prefix)
    {
        await StartAsync();
        var name = $"{new string(prefix.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray())}-{Interlocked.Increment(ref _containers)}";
        var container = Service.GetBlobContainerClient(name.Length <= 63 ? name : name[^63..].TrimStart('-'));
        await container.CreateIfNotExistsAsync();
        return container;
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    private async Task<bool> TryStartAsync(string directory, int port)
    {
        var start = new ProcessStartInfo(Path.Combine(directory, "node_modules", ".bin", "azurite-blob"))
        {
            ArgumentList =
            {
                "--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", port.ToString(),
                // The SDK's newest service version may be ahead of the emulator's; the app pins one anyway.
                "--skipApiVersionCheck", "--loose", "--silent",
                // Without it Azurite ignores SIGTERM.
                "--disableTelemetry",
            },
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout && !process.HasExited)
        {
            try
            {
                // Any HTTP answer (403 for this anonymous call) means the blob service listens.
                await http.GetAsync($"http://127.0.0.1:{port}/{Account}?comp=list");
                _process = process;
                ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{Account};";
                Service = new BlobServiceClient(ConnectionString, new BlobClientOptions(ArtifactsConfiguration.ServiceVersion));
                return true;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        await StopAsync(process);
        return false;
    }

    public async Task DisposeAsync()
    {
        if (_process is not null) await StopAsync(_process);
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited) kill(process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { process.Kill(); }
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Installs the pinned Azurite from the committed lock file the first time a clone runs the tests.</summary>
    private static async Task EnsureInstalledAsync(string directory)
    {
        if (File.Exists(Path.Combine(directory, "node_modules", ".bin", "azurite-blob"))) return;
        var npm = new ProcessStartInfo("npm")
        {
            ArgumentList = { "ci", "--prefix", directory, "--no-audit", "--no-fund" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(npm) ?? throw new InvalidOperationException("npm could not be started; install Node.js 20+.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"`npm ci --prefix {directory}` failed ({process.ExitCode}):\n{await output}\n{await errors}");
    }

    private static string ToolDirectory()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EventSourcedRegistry.sln"))) root = root.Parent;
        return root is null
            ? throw new InvalidOperationException("The repository root (EventSourcedRegistry.sln) was not found above the test binaries.")
            : Path.Combine(root.FullName, "tools", "azurite");
    }


    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
