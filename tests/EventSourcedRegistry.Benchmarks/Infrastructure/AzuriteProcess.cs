using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace EventSourcedRegistry.Benchmarks.Infrastructure;

/// <summary>
/// Azurite's blob service from <c>tools/azurite</c> (installed there with <c>npm ci</c> if it is not yet), on a
/// free loopback port, keeping its blobs in a temporary directory that is removed afterwards; stopped by its pid.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    // Azurite's documented development account: a public, well-known key, not a secret.
    private const string Account = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly Process _process;
    private readonly string _location;

    private AzuriteProcess(Process process, string location, int port)
    {
        _process = process;
        _location = location;
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{Account};";
    }

    public string ConnectionString { get; }

    public int ProcessId => _process.Id;

    public static async Task<AzuriteProcess> StartAsync(CancellationToken ct)
    {
        var directory = Path.Combine(RepoPaths.Root, "tools", "azurite");
        var executable = Path.Combine(directory, "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(executable))
        {
            using var npm = Process.Start(new ProcessStartInfo("npm") { ArgumentList = { "ci", "--prefix", directory, "--no-audit", "--no-fund" } })!;
            await npm.WaitForExitAsync(ct);
            if (npm.ExitCode != 0) throw new InvalidOperationException($"npm ci in {directory} failed with exit code {npm.ExitCode}");
        }
        var location = Path.Combine(Path.GetTempPath(), $"esr-bench-azurite-{Guid.NewGuid():N}");
        Directory.CreateDirectory(location);
        var port = ApiProcess.FreePort();
        var process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList =
            {
                "--location", location, "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture),
                "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry",
            },
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new AzuriteProcess(process, location, port);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", port, ct);
                return azurite;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(200, ct);
            }
            catch
            {
                await azurite.DisposeAsync();
                throw;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                    await term.WaitForExitAsync();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try { await _process.WaitForExitAsync(wait.Token); }
                catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
            }
        }
        finally
        {
            _process.Dispose();
            try { Directory.Delete(_location, recursive: true); }
            catch (IOException) { }
        }
    }
}
