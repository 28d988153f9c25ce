using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.BadInput;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Cli;

namespace EventSourcedRegistry.Api.Tests.Cli;

/// <summary>
/// Issue 19, items 5 and 7: esr and the API read instants and digests by the same rule. For every form in the tables
/// (<see cref="InstantForms"/>, <see cref="DigestForms"/>) esr accepts what the API accepts, with the same answer, and
/// refuses what the API refuses, as a usage error (exit 1) that names the option and says what is wrong, sending nothing.
/// Before: <c>esr --as-of 2026-12-05T08:46:20</c> silently meant UTC while the API refused it.
/// </summary>
public sealed class when_esr_and_the_api_read_the_same_text(AppFixture app) : BadInputTest(app)
{
    public static TheoryData<string> InstantSurfaces => new("state", "registry", "rollback", "audit", "changes");

    private static (string[] Esr, string Call, string? Body, string Option, string Field) Instant(string surface, string typed)
    {
        var q = InstantForm.InUrl(typed);
        return surface switch
        {
            "state" => (["state", Churn, "--as-of", typed, "-o", "json"], $"GET /api/v1/models/churn?asOf={q}", null, "--as-of", "asOf"),
            "registry" => (["registry", "--as-of", typed, "-o", "json"], $"GET /api/v1/registry?asOf={q}", null, "--as-of", "asOf"),
            "rollback" => (["rollback", Churn, "--to", typed, "--reason", "r", "--dry-run", "-o", "json"], "POST /api/v1/models/churn/rollback",
                JsonSerializer.Serialize(new { asOf = typed, reason = "r", dryRun = true }), "--to", "asOf"),
            "audit" => (["audit", "--to", typed, "-o", "json"], $"GET /api/v1/audit?to={q}", null, "--to", "to"),
            "changes" => (["changes", "--from", typed, "-o", "json"], $"GET /api/v1/registry/changes?from={q}", null, "--from", "from"),
            _ => throw new ArgumentOutOfRangeException(nameof(surface)),
        };
    }

    /// <summary>What both answers must agree on: the sequence the point resolved to, or the events listed.</summary>
    private static string Gist(string surface, JsonNode answer) => surface switch
    {
        "audit" or "changes" => string.Join(",", Items(answer).Select(i => i!["sequence"]!.GetValue<long>())),
        _ => answer["asOfSequence"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>A page's items, or a bare list of them (esr's output shape for lists may differ from the API's).</summary>
    private static JsonArray Items(JsonNode answer) => answer as JsonArray ?? answer["items"]!.AsArray();

    [Theory]
    [MemberData(nameof(InstantSurfaces))]
    public async Task esr_accepts_every_instant_the_api_accepts_with_the_same_answer(string surface)
    {
        var (at, before) = await App.ChurnChangedAfterAWholeSecond();
        foreach (var form in InstantForms.Accepted)
        {
            var typed = form.Write(at);
            var (args, call, body, _, _) = Instant(surface, typed);
            var api = await Call(call, body);
            Assert.True(api.Status == 200, $"API, {surface}, {form} ('{typed}'): {api.Status} {api.Body?.ToJsonString()}");
            var esr = await Host.Esr(args);
            Assert.True(esr.ExitCode == ExitCodes.Ok, $"esr {string.Join(' ', args)} ({form}): {esr}");
            Assert.Equal(Gist(surface, api.Body!), Gist(surface, JsonNode.Parse(esr.Out)!));
            if (surface is "state" or "registry" or "rollback") Assert.Equal(before, api.Body!["asOfSequence"]!.GetValue<long>());
        }
    }

    [Theory]
    [MemberData(nameof(InstantSurfaces))]
    public async Task esr_refuses_every_instant_the_api_refuses_and_says_why(string surface)
    {
        var (at, _) = await App.ChurnChangedAfterAWholeSecond();
        foreach (var form in InstantForms.Refused)
        {
            var typed = form.Write(at);
            var (args, call, body, option, field) = Instant(surface, typed);
            var problem = await Refused(400, call, body, errorField: field);
            Assert.Contains(form.Refusal!, problem["errors"]![field]![0]!.GetValue<string>());

            var before = await RegistrySnapshot.Take(Host, Store);
            var esr = await Host.Esr(args);
            Assert.True(esr.ExitCode == ExitCodes.Usage, $"esr {string.Join(' ', args)} ({form}): {esr}");
            Assert.True(esr.Error.Contains($"esr: {option} ", StringComparison.Ordinal) && esr.Error.Contains(form.Refusal!, StringComparison.Ordinal),
                $"esr {string.Join(' ', args)} ({form}): {esr}");
            await before.AssertUnchanged(Host, Store);
        }
    }

    private static readonly byte[] Bytes = "bytes esr sends"u8.ToArray();
    private static readonly string Hex = Convert.ToHexStringLower(SHA256.HashData(Bytes));

    public static TheoryData<string> DigestSurfaces => new("verify", "download", "register", "upload");

    /// <summary>esr's command for the digest (uploading <paramref name="file"/>, downloading beside it), and the API call that takes the same text.</summary>
    private (string[] Esr, Func<Task<RegistryCalls.Response>> Api, string Option) Digest(string surface, string typed, string file)
    {
        var body = new JsonObject { ["artifact"] = new JsonObject { ["uri"] = "s3://models/churn/model.onnx", ["sha256"] = typed } }.ToJsonString();
        return surface switch
        {
            "verify" => (["artifacts", "verify", typed, "-o", "json"],
                () => Call($"GET /api/v1/artifacts/{Uri.EscapeDataString(typed)}/verify"), "<sha256>"),
            "download" => (["artifacts", "download", typed, "--out", file + ".out", "-o", "json"],
                () => Call($"GET /api/v1/artifacts/{Uri.EscapeDataString(typed)}/verify"), "<artifact>"),
            "register" => (["versions", "register", Churn, "--artifact", "s3://models/churn/model.onnx", "--sha256", typed, "-o", "json"],
                () => Call("POST /api/v1/models/churn/versions", body), "--sha256"),
            "upload" => (["artifacts", "upload", file, "--sha256", typed, "-o", "json"], () => Host.Upload(Bytes, typed), "--sha256"),
            _ => throw new ArgumentOutOfRangeException(nameof(surface)),
        };
    }

    [Theory]
    [MemberData(nameof(DigestSurfaces))]
    public async Task esr_takes_every_digest_the_api_takes_and_refuses_the_rest_alike(string surface)
    {
        await GivenChurn();
        await Host.UploadOk(Bytes);
        var file = Path.Combine(Path.GetTempPath(), $"esr-digest-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(file, Bytes);
        try
        {
            foreach (var form in DigestForms.All.Where(f => surface != "upload" || !f.OnlyOuterWhitespace))
            {
                var typed = form.Write(Hex);
                var (args, callApi, option) = Digest(surface, typed, file);
                var before = await RegistrySnapshot.Take(Host, Store);
                var api = await callApi();
                var esr = await Host.Esr(args);
                if (form.Accepted)
                {
                    Assert.True(api.Status is >= 200 and < 300, $"API, {surface}, {form} ('{typed}'): {api.Status} {api.Body?.ToJsonString()}");
                    Assert.True(esr.ExitCode == ExitCodes.Ok, $"esr {string.Join(' ', args)} ({form}): {esr}");
                    if (surface == "download")
                    {
                        Assert.Equal(Bytes, await File.ReadAllBytesAsync(file + ".out"));
                        File.Delete(file + ".out");
                    }
                    else
                    {
                        // What the registry answers: the lower-case hex, whichever form was typed.
                        var answer = JsonNode.Parse(esr.Out)!;
                        Assert.Equal(Hex, (answer["artifact"] ?? answer)["sha256"]!.GetValue<string>());
                    }
                }
                else
                {
                    api.AssertProblem(400);
                    Assert.True(esr.ExitCode == ExitCodes.Usage, $"esr {string.Join(' ', args)} ({form}): {esr}");
                    Assert.True(esr.Error.Contains($"esr: {option} ", StringComparison.Ordinal) && esr.Error.Contains(form.Refusal!, StringComparison.Ordinal),
                        $"esr {string.Join(' ', args)} ({form}): {esr}");
                    await before.AssertUnchanged(Host, Store);
                }
            }
        }
        finally
        {
            File.Delete(file);
            File.Delete(file + ".out");
        }
    }
}
