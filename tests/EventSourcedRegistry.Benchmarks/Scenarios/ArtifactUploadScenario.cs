using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Azure.Storage.Blobs;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// <c>POST /api/v1/artifacts</c> of one large file (raw body, streamed from disk) to an API instance of its own
/// whose artifact backend is Azure Blob on Azurite, against the slower of two baselines over the same file:
/// <c>openssl dgst -sha256</c> (hashing it) and a plain Azure SDK upload to the same Azurite (storing it). The
/// API's resident memory (VmRSS in /proc) is sampled every 20 ms during the upload; growth = peak − before.
/// </summary>
public sealed class ArtifactUploadScenario : IScenario
{
    public const double RatioTarget = 0.8;
    public const long GrowthTargetPerGiB = 64L << 20;
    private const long OneGiB = 1L << 30;

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var quick = context.Options.Mode == BenchMode.Quick;
        var size = quick ? 256L << 20 : OneGiB;
        var label = quick ? $"{size >> 20} MiB (quick mode; full mode: 1 GiB)" : "1 GiB";
        var file = Path.Combine(Path.GetTempPath(), $"esr-bench-artifact-{Guid.NewGuid():N}.bin");
        try
        {
            await WriteFileAsync(file, size, context.Options.Seed, ct);
            await using var azurite = await AzuriteProcess.StartAsync(ct);
            await using var api = await ApiProcess.StartAsync(context.ApiAssembly, context.ConnectionString, ct, new Dictionary<string, string>
            {
                ["Registry__Artifacts__Backend"] = "AzureBlob",
                ["Registry__Artifacts__ConnectionString"] = azurite.ConnectionString,
                ["Registry__Artifacts__Container"] = "bench-artifacts",
            });
            context.Log($"artifact upload: {label} file, Azurite and an API instance on Azure Blob started");

            // Baseline 1: hashing the file.
            var hashWatch = Stopwatch.StartNew();
            using (var openssl = Process.Start(new ProcessStartInfo("openssl") { ArgumentList = { "dgst", "-sha256", file }, RedirectStandardOutput = true })!)
            {
                await openssl.StandardOutput.ReadToEndAsync(ct);
                await openssl.WaitForExitAsync(ct);
                if (openssl.ExitCode != 0) throw new InvalidOperationException("openssl dgst failed");
            }
            var hashTime = hashWatch.Elapsed;

            // Baseline 2: a plain SDK upload of the same file to the same Azurite.
            var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("bench-baseline");
            await container.CreateIfNotExistsAsync(cancellationToken: ct);
            await container.GetBlobClient("warmup").UploadAsync(new BinaryData(new byte[1 << 20]), ct);
            var sdkWatch = Stopwatch.StartNew();
            await using (var stream = File.OpenRead(file))
                await container.GetBlobClient("baseline").UploadAsync(stream, ct);
            var sdkTime = sdkWatch.Elapsed;

            // Ours: warm the upload path with 1 MiB, then the file.
            using var http = ApiProcess.Authorize(new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(10) });
            using (var warm = await http.PostAsync("/api/v1/artifacts", new ByteArrayContent(new byte[1 << 20]), ct))
                if ((int)warm.StatusCode != 201)
                    throw new InvalidOperationException($"the warm-up upload answered {(int)warm.StatusCode}: {await warm.Content.ReadAsStringAsync(ct)}");
            var before = Resident(api.ProcessId);
            var peak = before;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, Resident(api.ProcessId));
                    try { await Task.Delay(20, sampling.Token); }
                    catch (OperationCanceledException) { }
                }
            }, CancellationToken.None);
            using var apiProcess = Process.GetProcessById(api.ProcessId);
            var cpuBefore = apiProcess.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            int status;
            string answer;
            await using (var stream = File.OpenRead(file))
            {
                var content = new StreamContent(stream, 1 << 20);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                content.Headers.ContentLength = size;
                using var response = await http.PostAsync("/api/v1/artifacts", content, ct);
                status = (int)response.StatusCode;
                answer = await response.Content.ReadAsStringAsync(ct);
            }
            var time = watch.Elapsed;
            apiProcess.Refresh();
            var apiCpu = (apiProcess.TotalProcessorTime - cpuBefore).TotalSeconds;
            await sampling.CancelAsync();
            await sampler;
            peak = Math.Max(peak, Resident(api.ProcessId));

            double MiBps(TimeSpan t) => size / t.TotalSeconds / (1 << 20);
            var slower = Math.Min(MiBps(hashTime), MiBps(sdkTime));
            var slowerName = MiBps(hashTime) <= MiBps(sdkTime) ? "openssl dgst -sha256" : "Azure SDK upload";
            var ours = MiBps(time);
            var growth = peak - before;
            context.Log($"artifact upload: API {ours:0} MiB/s ({time.TotalSeconds:0.00} s), openssl {MiBps(hashTime):0} MiB/s, SDK {MiBps(sdkTime):0} MiB/s; " +
                        $"RSS {before >> 20} → peak {peak >> 20} MiB; API CPU {apiCpu:0.00} s");
            var failed = status != 201 ? $"the upload answered {status}: {(answer.Length > 300 ? answer[..300] : answer)}" : null;
            var growthLimit = (double)GrowthTargetPerGiB * size / OneGiB;
            string F(double v) => v.ToString("0", CultureInfo.InvariantCulture);
            return
            [
                new ResultRow($"artifact upload, {label}, Azure Blob backend on Azurite",
                    $"{F(ours)} MiB/s ({time.TotalSeconds:0.00} s)",
                    $"{slowerName} {F(slower)} MiB/s (openssl {F(MiBps(hashTime))} MiB/s, SDK {F(MiBps(sdkTime))} MiB/s)",
                    ResultRow.Times(ours / slower), $"≥ {RatioTarget:0.0}× the slower baseline",
                    failed is null && ours / slower >= RatioTarget ? Verdict.Pass : Verdict.Fail,
                    failed ?? $"One upload after a 1 MiB warm-up; the API hashes and streams the body to Azurite; API CPU {apiCpu:0.00} s."),
                new ResultRow($"artifact upload memory growth, {label}",
                    $"{growth / 1048576.0:0.0} MiB (RSS {before >> 20} → peak {peak >> 20} MiB)", "—", "—",
                    quick ? $"≤ 64 MiB per GiB = {growthLimit / 1048576.0:0} MiB" : "≤ 64 MiB",
                    failed is null && growth <= growthLimit ? Verdict.Pass : Verdict.Fail,
                    failed ?? "VmRSS of the API from /proc, sampled every 20 ms."),
            ];
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Deterministic, incompressible-looking content: seeded random bytes, a fresh 1 MiB block each time.</summary>
    private static async Task WriteFileAsync(string path, long size, int seed, CancellationToken ct)
    {
        var random = new Random(seed);
        var block = new byte[1 << 20];
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
        for (long written = 0; written < size; written += block.Length)
        {
            random.NextBytes(block);
            await stream.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, size - written)), ct);
        }
    }

    private static long Resident(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }
}
