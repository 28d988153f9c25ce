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
/// API's resident memory (VmRSS in /proc) is sampled every 20 ms during the uploads; growth = peak − before.
/// </summary>
public sealed class ArtifactUploadScenario : IScenario
{
    public const double RatioTarget = 0.8;
    public const long GrowthTargetPerGiB = 64L << 20;
    private const long OneGiB = 1L << 30;

    /// <summary>
    /// Each measurement is taken this many times, the three kinds interleaved round by round (openssl, SDK, ours),
    /// and the fastest of each counts: on a shared machine the fastest pass is the one least disturbed by others,
    /// and interleaving gives the baselines and ours the same chances.
    /// </summary>
    public const int Rounds = 2;

    /// <summary>It starts its own Azurite and API instance and needs only the run's PostgreSQL.</summary>
    public bool NeedsDataset => false;

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
                ["Registry__Artifacts__Container"] = ApiContainer,
            });
            context.Log($"artifact upload: {label} file, Azurite and an API instance on Azure Blob started");
            // CPU of this API instance, of Azurite (in the meter's second slot) and of the harness, and the machine's load.
            var meter = new CpuMeter(api.ProcessId, azurite.ProcessId);
            var service = new BlobServiceClient(azurite.ConnectionString);
            var baseline = service.GetBlobContainerClient("bench-baseline");
            await baseline.CreateIfNotExistsAsync(cancellationToken: ct);
            await baseline.GetBlobClient("warmup").UploadAsync(new BinaryData(new byte[1 << 20]), ct);
            using var http = ApiProcess.Authorize(new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(10) });
            using (var warm = await http.PostAsync("/api/v1/artifacts", new ByteArrayContent(new byte[1 << 20]), ct))
                if ((int)warm.StatusCode != 201)
                    throw new InvalidOperationException($"the warm-up upload answered {(int)warm.StatusCode}: {await warm.Content.ReadAsStringAsync(ct)}");

            // The API's resident memory from after the warm-up to the end of the last upload.
            var before = Resident(api.ProcessId);
            var peak = before;
            // Which kind of memory grew: anonymous (GC heap, buffers, thread stacks) or file-backed (pages of the
            // loaded assemblies touched for the first time); VmRSS also counts shared memory (JIT'ed code under W^X).
            var beforeParts = ResidentParts(api.ProcessId);
            var peakAnon = beforeParts.Anon;
            var peakFile = beforeParts.File;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, Resident(api.ProcessId));
                    var parts = ResidentParts(api.ProcessId);
                    peakAnon = Math.Max(peakAnon, parts.Anon);
                    peakFile = Math.Max(peakFile, parts.File);
                    try { await Task.Delay(20, sampling.Token); }
                    catch (OperationCanceledException) { }
                }
            }, CancellationToken.None);

            Phase? hash = null, sdk = null, ours = null;
            string? failed = null;
            for (var round = 0; round < Rounds && failed is null; round++)
            {
                // Baseline 1: hashing the file.
                hash = Phase.Faster(hash, await Phase.TimeAsync(meter, async () =>
                {
                    using var openssl = Process.Start(new ProcessStartInfo("openssl") { ArgumentList = { "dgst", "-sha256", file }, RedirectStandardOutput = true })!;
                    await openssl.StandardOutput.ReadToEndAsync(ct);
                    await openssl.WaitForExitAsync(ct);
                    if (openssl.ExitCode != 0) throw new InvalidOperationException("openssl dgst failed");
                }));

                // Baseline 2: a plain SDK upload of the same file to the same Azurite, default transfer options.
                var name = $"baseline-{round}";
                sdk = Phase.Faster(sdk, await Phase.TimeAsync(meter, async () =>
                {
                    await using var stream = File.OpenRead(file);
                    await baseline.GetBlobClient(name).UploadAsync(stream, ct);
                }));
                await baseline.GetBlobClient(name).DeleteAsync(cancellationToken: ct);

                // Ours: one streamed POST of the file.
                string? sha256 = null;
                ours = Phase.Faster(ours, await Phase.TimeAsync(meter, async () =>
                {
                    await using var stream = File.OpenRead(file);
                    var content = new StreamContent(stream, 1 << 20);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    content.Headers.ContentLength = size;
                    using var response = await http.PostAsync("/api/v1/artifacts", content, ct);
                    var answer = await response.Content.ReadAsStringAsync(ct);
                    if ((int)response.StatusCode != 201)
                        failed = $"the upload answered {(int)response.StatusCode}: {(answer.Length > 300 ? answer[..300] : answer)}";
                    else
                        sha256 = System.Text.Json.JsonDocument.Parse(answer).RootElement.GetProperty("sha256").GetString();
                }));
                // The next round must store the bytes again, not find them stored.
                if (sha256 is not null)
                    await service.GetBlobContainerClient(ApiContainer).GetBlobClient($"sha256/{sha256}").DeleteAsync(cancellationToken: ct);
                context.Log($"artifact upload round {round + 1}: openssl {MiBps(size, hash!.Last):0} MiB/s, SDK {MiBps(size, sdk!.Last):0} MiB/s, ours {MiBps(size, ours!.Last):0} MiB/s");
            }
            await sampling.CancelAsync();
            await sampler;
            peak = Math.Max(peak, Resident(api.ProcessId));

            var slower = Math.Min(MiBps(size, hash!.Best), MiBps(size, sdk!.Best));
            var slowerName = MiBps(size, hash.Best) <= MiBps(size, sdk.Best) ? "openssl dgst -sha256" : "Azure SDK upload";
            var oursRate = MiBps(size, ours!.Best);
            var growth = peak - before;
            var load = Load(hash.BestUsage, sdk.BestUsage, ours.BestUsage);
            context.Log($"artifact upload: API {oursRate:0} MiB/s ({ours.Best.TotalSeconds:0.00} s), openssl {MiBps(size, hash.Best):0} MiB/s, SDK {MiBps(size, sdk.Best):0} MiB/s (fastest of {Rounds}); " +
                        $"RSS {before >> 20} → peak {peak >> 20} MiB; {load}");
            var growthLimit = (double)GrowthTargetPerGiB * size / OneGiB;
            string F(double v) => v.ToString("0", CultureInfo.InvariantCulture);
            return
            [
                new ResultRow($"artifact upload, {label}, Azure Blob backend on Azurite",
                    $"{F(oursRate)} MiB/s ({ours.Best.TotalSeconds:0.00} s)",
                    $"{slowerName} {F(slower)} MiB/s (openssl {F(MiBps(size, hash.Best))} MiB/s, SDK {F(MiBps(size, sdk.Best))} MiB/s)",
                    ResultRow.Times(oursRate / slower), $"≥ {RatioTarget:0.0}× the slower baseline",
                    failed is null && oursRate / slower >= RatioTarget ? Verdict.Pass : Verdict.Fail,
                    failed ?? $"After a 1 MiB warm-up, {Rounds} rounds of openssl, SDK upload and our upload, interleaved; the fastest of each counts " +
                              $"(ours: {string.Join(", ", ours.All.Select(t => F(MiBps(size, t)) + " MiB/s"))}; SDK: {string.Join(", ", sdk.All.Select(t => F(MiBps(size, t)) + " MiB/s"))}). " +
                              $"The API hashes and streams the body to Azurite without a declared digest. {load}."),
                new ResultRow($"artifact upload memory growth, {label}",
                    $"{growth / 1048576.0:0.0} MiB (RSS {before >> 20} → peak {peak >> 20} MiB)", "—", "—",
                    quick ? $"≤ 64 MiB per GiB = {growthLimit / 1048576.0:0} MiB" : "≤ 64 MiB",
                    failed is null && growth <= growthLimit ? Verdict.Pass : Verdict.Fail,
                    failed ?? $"VmRSS of the API from /proc, sampled every 20 ms from after the warm-up to the end of the {Rounds} uploads ({Rounds} × {size >> 20} MiB); " +
                              $"the peaks of its parts grew by {(peakAnon - beforeParts.Anon) / 1048576.0:0.0} MiB anonymous (GC heap, buffers, stacks) and " +
                              $"{(peakFile - beforeParts.File) / 1048576.0:0.0} MiB file-backed (assembly pages touched for the first time); the rest of VmRSS is " +
                              "shared memory, where the runtime keeps JIT'ed code (W^X double mapping)."),
            ];
        }
        finally
        {
            File.Delete(file);
        }
    }

    private const string ApiContainer = "bench-artifacts";

    private static double MiBps(long size, TimeSpan t) => size / t.TotalSeconds / (1 << 20);

    /// <summary>The timings of one kind of measurement over the rounds, and the machine's CPU during the fastest.</summary>
    private sealed record Phase(TimeSpan Best, CpuUsage? BestUsage, TimeSpan Last, IReadOnlyList<TimeSpan> All)
    {
        public static async Task<Phase> TimeAsync(CpuMeter meter, Func<Task> action)
        {
            var cpu = meter.Take();
            var watch = Stopwatch.StartNew();
            await action();
            var time = watch.Elapsed;
            return new Phase(time, CpuMeter.Between(cpu, meter.Take(), 1), time, [time]);
        }

        public static Phase Faster(Phase? earlier, Phase latest) =>
            earlier is null ? latest
            : earlier.Best <= latest.Best ? earlier with { Last = latest.Last, All = [.. earlier.All, latest.Last] }
            : latest with { All = [.. earlier.All, latest.Last] };
    }

    /// <summary>Where each phase's CPU went (seconds) and how much of the machine other work took meanwhile.</summary>
    private static string Load(CpuUsage? hash, CpuUsage? sdk, CpuUsage? ours)
    {
        if (hash is null || sdk is null || ours is null) return "machine load not measured (no /proc)";
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv,
            $"Machine busy during openssl {hash.MachineBusyPercent:0} % (openssl counted as other work: {hash.OthersPercent:0} %); " +
            $"during the SDK upload {sdk.MachineBusyPercent:0} %, {sdk.OthersPercent:0} % other work, Azurite CPU {sdk.PostgresMicros / 1e6:0.00} s, harness {sdk.HarnessMicros / 1e6:0.00} s; " +
            $"during ours {ours.MachineBusyPercent:0} %, {ours.OthersPercent:0} % other work, API {ours.ApiMicros / 1e6:0.00} s, Azurite {ours.PostgresMicros / 1e6:0.00} s, harness {ours.HarnessMicros / 1e6:0.00} s");
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

    private static (long Anon, long File) ResidentParts(int pid)
    {
        long anon = 0, mapped = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kib(line["RssAnon:".Length..]);
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) mapped = Kib(line["RssFile:".Length..]);
        }
        return (anon, mapped);
        static long Kib(string value) => long.Parse(value.Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    private static long Resident(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }
}
