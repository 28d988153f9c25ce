// A training pipeline in miniature: fit y = a·x + b on generated data, write the weights, upload them, register
// the version with its lineage and metrics, and ask for Production and champion only if it beats both the current
// champion and any candidate still waiting for approval; otherwise keep it back.
//
//   ESR_API_KEY=<a contributor's key> dotnet run --project samples/pipeline [-- --model demand --server http://localhost:5000 --noise 0.5]
//
// The key comes from ESR_API_KEY (or --api-key): the registry's first start prints an admin key; make the pipeline its
// own with `esr keys create demand-pipeline --owner demand-team --grant contributor` (or --grant contributor:demand once the model exists).
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using EventSourcedRegistry.Contracts.V1.Requests;

var model = Argument("--model") ?? "demand";
var server = Argument("--server") ?? Environment.GetEnvironmentVariable("ESR_SERVER") ?? "http://localhost:5000";
using var registry = new RegistryClient(new RegistryClientOptions { Endpoint = new Uri(server), ApiKey = Argument("--api-key") });

// 1. Data: a noisy line, different every run (as fresh data would be).
// --noise sets the noise's standard deviation (the walkthrough in README uses it to make one run worse on purpose).
var random = new Random();
var noise = 0.5 + random.NextDouble() * 2;
if (Argument("--noise") is { } noiseArgument)
{
    if (!double.TryParse(noiseArgument, NumberStyles.Float, CultureInfo.InvariantCulture, out noise) || !(noise >= 0))
    {
        Console.Error.WriteLine($"--noise takes a standard deviation of 0 or more, e.g. 0.5 (got '{noiseArgument}').");
        return 1;
    }
}
var points = Enumerable.Range(0, 500).Select(_ =>
{
    var x = random.NextDouble() * 10;
    return (X: x, Y: 3 * x + 2 + Gaussian(random) * noise);
}).ToArray();
var dataset = Encoding.UTF8.GetBytes(string.Join('\n', points.Select(p => FormattableString.Invariant($"{p.X},{p.Y}"))));
var datasetDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(dataset));

// 2. Train on 80 %, evaluate on the rest.
var train = points[..400];
var test = points[400..];
var (a, b) = Fit(train);
var rmse = Math.Sqrt(test.Average(p => Math.Pow(a * p.X + b - p.Y, 2)));
var meanY = test.Average(p => p.Y);
var r2 = 1 - test.Sum(p => Math.Pow(a * p.X + b - p.Y, 2)) / test.Sum(p => Math.Pow(p.Y - meanY, 2));
Console.WriteLine(FormattableString.Invariant($"Fitted y = {a:F4}·x + {b:F4}: rmse {rmse:F4}, r2 {r2:F4} (noise {noise:F2})"));

// 3. The weights file, uploaded with a progress line.
var weightsPath = Path.Combine(Path.GetTempPath(), $"{model}-{Guid.NewGuid():N}.json");
await File.WriteAllTextAsync(weightsPath, JsonSerializer.Serialize(new { a, b }));
ArtifactInfo artifact;
await using (var weights = File.OpenRead(weightsPath))
    artifact = await registry.UploadArtifactAsync(weights, "weights.json",
        progress: new Progress<long>(sent => Console.WriteLine($"  uploaded {sent} of {weights.Length} bytes")));
File.Delete(weightsPath);

// 4. Register the version with lineage and metrics (the model on first run).
try { await registry.GetModelAsync(model); }
catch (RegistryRequestException e) when (e.Status == 404)
{
    await registry.RegisterModelAsync(model, "Linear demand forecast (samples/pipeline)", new Dictionary<string, string> { ["team"] = "samples" });
}
var version = await registry.RegisterVersionAsync(model, new RegisterModelVersion(
    new ArtifactInput(null, artifact.Sha256, null),
    new LineageInput(RunId: Guid.NewGuid().ToString("N")[..12], SourceRepository: Git("remote get-url origin"), SourceCommit: Git("rev-parse HEAD"),
        Datasets: [new DatasetInput("generated://samples/pipeline/line", datasetDigest)]),
    Params: new Dictionary<string, string> { ["method"] = "least-squares", ["trainRows"] = "400" },
    Metrics: new Dictionary<string, double> { ["rmse"] = rmse, ["r2"] = r2 }));
Console.WriteLine($"Registered {model} v{version.Version} (artifact {artifact.Sha256[..12]}…)");

// 5. Promote only if it beats the champion and any candidate already waiting for approval (lower rmse). Under four-eyes
// approval a newer request for Production or champion supersedes the pending one, so asking without comparing with
// the pending candidate would replace a better model that an approver has not looked at yet.
var rivals = new List<(int Version, double Rmse, string Name)>();
try
{
    var champion = await registry.ResolveAliasAsync(model, "champion");
    if (champion.Metrics.TryGetValue("rmse", out var championRmse)) rivals.Add((champion.Version, championRmse, $"champion v{champion.Version}"));
}
catch (RegistryRequestException e) when (e.Status == 404) { }
// At most one request per target is pending (a newer one supersedes it), so one page holds them all.
var pending = (await registry.ListRequestsAsync(model, state: "pending")).Items
    .Where(r => (r.Kind, r.Target) is ("alias", "champion") or ("stage", "Production"))
    .Select(r => r.Version).Distinct().Where(v => rivals.All(r => r.Version != v)).ToList();
foreach (var candidate in pending)
    if ((await registry.GetVersionAsync(model, candidate)).Metrics.TryGetValue("rmse", out var candidateRmse))
        rivals.Add((candidate, candidateRmse, $"v{candidate} (waiting for approval)"));

var best = rivals.OrderBy(r => r.Rmse).FirstOrDefault();
if (rivals.Count > 0 && best.Rmse <= rmse)
{
    Console.WriteLine(FormattableString.Invariant(
        $"Kept back v{version.Version} (rmse {rmse:F4}): {best.Name} has rmse {best.Rmse:F4}."));
    return 0;
}
var reason = rivals.Count == 0
    ? "first champion"
    : FormattableString.Invariant($"rmse {rmse:F4} beats {string.Join(" and ", rivals.Select(r => FormattableString.Invariant($"{r.Rmse:F4} of {r.Name}")))}");
// With four-eyes approval (the default protects Production and champion) each step becomes a request an approver of
// another owner approves; the pipeline reports them and ends. Without it, both happen at once.
var waiting = new List<TransitionRequestInfo>();
try { await registry.TransitionStageAsync(model, version.Version, "Production", reason, archiveExisting: true); }
catch (ApprovalRequiredException request) { waiting.Add(request.Request); }
try { await registry.SetAliasAsync(model, "champion", version.Version, reason); }
catch (ApprovalRequiredException request) { waiting.Add(request.Request); }
foreach (var request in waiting)
    Console.WriteLine($"Waiting for approval: {request.Kind} {request.Target} for v{request.Version}, request {request.Id}" +
                      $" (approve: POST /api/v1/models/{Uri.EscapeDataString(model)}/requests/{request.Id}/approve)");
Console.WriteLine(waiting.Count == 0
    ? $"Promoted v{version.Version} to Production as champion: {reason}"
    : $"Requested v{version.Version} for Production as champion: {reason}");
return 0;

static (double A, double B) Fit((double X, double Y)[] data)
{
    var meanX = data.Average(p => p.X);
    var meanY = data.Average(p => p.Y);
    var a = data.Sum(p => (p.X - meanX) * (p.Y - meanY)) / data.Sum(p => Math.Pow(p.X - meanX, 2));
    return (a, meanY - a * meanX);
}

static double Gaussian(Random random) =>
    Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

static string? Git(string arguments)
{
    try
    {
        using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true });
        var output = git!.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        return git.ExitCode == 0 && output.Length > 0 ? output : null;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return null;
    }
}

string? Argument(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
