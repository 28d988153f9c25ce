using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.BadInput;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Contracts;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>
/// Issue 19, item 7: every door that takes a SHA-256 reads it by one rule (<see cref="DigestForms"/>). The accepted forms,
/// <c>sha256:&lt;hex&gt;</c> among them (refused before), name the same bytes and are stored and answered as 64 lower-case
/// hex digits, so no event's contract changes; the refused forms are a 400 that says why and appends nothing.
/// </summary>
public sealed class when_writing_a_digest_in_any_form(AppFixture app) : BadInputTest(app)
{
    private static readonly byte[] Bytes = "the model's bytes"u8.ToArray();
    private static readonly string Hex = Convert.ToHexStringLower(SHA256.HashData(Bytes));

    private static string External(string sha256) =>
        new JsonObject { ["artifact"] = new JsonObject { ["uri"] = "s3://models/churn/model.onnx", ["sha256"] = sha256, ["sizeBytes"] = Bytes.Length } }
            .ToJsonString();

    private static string Uploaded(string sha256) => new JsonObject { ["artifact"] = new JsonObject { ["sha256"] = sha256 } }.ToJsonString();

    private async Task<List<string?>> StoredArtifactDigests() =>
        await App.SqlList<string?>("select data -> 'artifact' ->> 'sha256' from registry.mt_events where type = 'model_version_registered' order by seq_id");

    [Theory]
    [InlineData("external")]
    [InlineData("uploaded")]
    public async Task a_version_registered_with_any_accepted_form_stores_and_answers_the_lower_case_hex(string artifact)
    {
        await GivenChurn();
        await Host.UploadOk(Bytes);

        foreach (var form in DigestForms.Accepted)
        {
            var body = artifact == "external" ? External(form.Write(Hex)) : Uploaded(form.Write(Hex));
            var registered = await Call("POST /api/v1/models/churn/versions", body);
            Assert.True(registered.Status == 201, $"{form}: {registered.Status} {registered.Body?.ToJsonString()}");
            Assert.Equal(Hex, registered.Body!["artifact"]!["sha256"]!.GetValue<string>());
            var version = registered.Body["version"]!.GetValue<int>();
            Assert.Equal(Hex, (await Host.Get($"/api/v1/models/churn/versions/{version}").Ok()).Body!["artifact"]!["sha256"]!.GetValue<string>());
        }
        // The event holds the form it always held: the contract of ModelVersionRegistered is unchanged.
        Assert.Equal(Enumerable.Repeat<string?>(Hex, DigestForms.Accepted.Count()), await StoredArtifactDigests());
    }

    [Theory]
    [InlineData("external")]
    [InlineData("uploaded")]
    public async Task a_version_registered_with_a_refused_form_is_a_400_that_says_why_and_appends_nothing(string artifact)
    {
        await GivenChurn();
        await Host.UploadOk(Bytes);

        foreach (var form in DigestForms.Refused)
        {
            var body = artifact == "external" ? External(form.Write(Hex)) : Uploaded(form.Write(Hex));
            var problem = await Refused(400, "POST /api/v1/models/churn/versions", body, errorField: "artifact.sha256");
            var error = problem["errors"]!["artifact.sha256"]![0]!.GetValue<string>();
            Assert.True(error.Contains(form.Refusal!, StringComparison.Ordinal), $"{form}: {error}");
            Assert.True(error.Contains(Sha256Digest.AcceptedForms, StringComparison.Ordinal), $"{form}: {error}");
        }
        Assert.Empty(await StoredArtifactDigests());
    }

    public static TheoryData<string> Routes => new("GET /api/v1/artifacts/{0}", "HEAD /api/v1/artifacts/{0}", "GET /api/v1/artifacts/{0}/verify");

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task an_artifact_route_takes_every_accepted_form_and_answers_with_the_lower_case_hex(string route)
    {
        await Host.UploadOk(Bytes);
        foreach (var form in DigestForms.Accepted)
        {
            var call = string.Format(route, Uri.EscapeDataString(form.Write(Hex)));
            var space = call.IndexOf(' ');
            using var response = await Host.Download(call[(space + 1)..], method: new HttpMethod(call[..space]));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{call} ({form}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            if (route.EndsWith("/verify", StringComparison.Ordinal))
            {
                var verification = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                Assert.True(verification["verified"]!.GetValue<bool>());
                Assert.Equal(Hex, verification["sha256"]!.GetValue<string>());
            }
            else
            {
                Assert.Equal($"\"{Hex}\"", response.Headers.ETag?.Tag);
                if (route.StartsWith("GET", StringComparison.Ordinal)) Assert.Equal(Bytes, await response.Content.ReadAsByteArrayAsync());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task an_artifact_route_refuses_every_refused_form_with_a_400_that_says_why(string route)
    {
        await Host.UploadOk(Bytes);
        foreach (var form in DigestForms.Refused)
        {
            var call = string.Format(route, Uri.EscapeDataString(form.Write(Hex)));
            var space = call.IndexOf(' ');
            using var response = await Host.Download(call[(space + 1)..], method: new HttpMethod(call[..space]));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{call} ({form}): {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            if (call.StartsWith("HEAD", StringComparison.Ordinal)) continue;
            var detail = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
            Assert.True(detail.Contains(form.Refusal!, StringComparison.Ordinal), $"{form}: {detail}");
            Assert.True(detail.Contains(Sha256Digest.AcceptedForms, StringComparison.Ordinal), $"{form}: {detail}");
        }
    }

    [Fact]
    public async Task an_upload_declares_its_digest_in_any_accepted_form_and_is_answered_with_the_lower_case_hex()
    {
        foreach (var form in DigestForms.Accepted)
        {
            var uploaded = await Host.Upload(Bytes, form.Write(Hex));
            Assert.True(uploaded.Status is 200 or 201, $"{form}: {uploaded.Status} {uploaded.Body?.ToJsonString()}");
            Assert.Equal(Hex, uploaded.Body!["sha256"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task an_upload_that_declares_a_refused_form_is_a_400_and_stores_nothing()
    {
        // Whitespace around a header's value is not part of it (RFC 9110): those forms are the digest itself there.
        foreach (var form in DigestForms.Refused.Where(f => !f.OnlyOuterWhitespace))
        {
            var problem = (await Host.Upload(Bytes, form.Write(Hex))).AssertProblem(400, "X-Content-SHA256");
            var error = problem["errors"]!["X-Content-SHA256"]![0]!.GetValue<string>();
            Assert.True(error.Contains(form.Refusal!, StringComparison.Ordinal), $"{form}: {error}");
            Assert.Equal(404, (await Host.Get($"/api/v1/artifacts/{Hex}/verify")).Status);
        }
    }

    [Fact]
    public async Task an_external_checkpoint_head_is_read_in_any_accepted_form_and_a_refused_one_is_a_400()
    {
        await GivenChurn(versions: 1);
        await Store.WaitForAuditTrail();
        var chain = await Host.Verify();
        var (sequence, head) = (chain["headSequence"]!.GetValue<long>(), chain["head"]!.GetValue<string>());

        foreach (var form in DigestForms.Accepted)
        {
            var verified = await Host.Get($"/api/v1/audit/verify?sequence={sequence}&head={Uri.EscapeDataString(form.Write(head))}");
            Assert.True(verified.Status == 200, $"{form}: {verified.Status} {verified.Body?.ToJsonString()}");
            Assert.Equal("verified", verified.Body!["state"]!.GetValue<string>());
        }
        foreach (var form in DigestForms.Refused)
        {
            var problem = await Refused(400, $"GET /api/v1/audit/verify?sequence={sequence}&head={Uri.EscapeDataString(form.Write(head))}",
                errorField: "head");
            Assert.Contains(form.Refusal!, problem["errors"]!["head"]![0]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task an_approval_names_the_reviewed_digest_in_any_accepted_form_and_records_the_lower_case_hex()
    {
        var host = await App.GovernedHost();
        var contributor = host.ClientWithKey((await host.CreateKey("contributor")).Key);
        var approver = host.ClientWithKey((await host.CreateKey("approver")).Key);
        await host.RegisterModel(Churn);
        var forms = DigestForms.Accepted.ToList();
        foreach (var _ in forms) await host.RegisterVersion(Churn, Hex);

        for (var i = 0; i < forms.Count; i++)
        {
            var requested = await contributor.Send(HttpMethod.Post, $"/api/v1/models/{Churn}/versions/{i + 1}/stage",
                new { stage = "Production", archiveExisting = true });
            Assert.True(requested.Status == 202, $"{requested.Status} {requested.Body}");
            var approved = await approver.Send(HttpMethod.Post, $"/api/v1/models/{Churn}/requests/{requested.Body!["id"]}/approve",
                new { sha256 = forms[i].Write(Hex) });
            Assert.True(approved.Status == 200, $"{forms[i]}: {approved.Status} {approved.Body}");
            Assert.Equal(Hex, Assert.Single(approved.Body!["approvals"]!.AsArray())!["sha256"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task an_approval_that_names_a_refused_form_is_a_400_and_appends_nothing()
    {
        var host = await App.GovernedHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var contributor = host.ClientWithKey((await host.CreateKey("contributor")).Key);
        var approver = host.ClientWithKey((await host.CreateKey("approver")).Key);
        await host.RegisterModel(Churn);
        await host.RegisterVersion(Churn, Hex);
        var requested = await contributor.Send(HttpMethod.Post, $"/api/v1/models/{Churn}/versions/1/stage", new { stage = "Production" });
        Assert.True(requested.Status == 202, $"{requested.Status} {requested.Body}");

        foreach (var form in DigestForms.Refused)
        {
            var before = await RegistrySnapshot.Take(host, store);
            var response = await approver.Send(HttpMethod.Post, $"/api/v1/models/{Churn}/requests/{requested.Body!["id"]}/approve",
                new { sha256 = form.Write(Hex) });
            var problem = response.AssertProblem(400, "sha256");
            Assert.Contains(form.Refusal!, problem["errors"]!["sha256"]![0]!.GetValue<string>());
            await before.AssertUnchanged(host, store);
        }
    }
}
