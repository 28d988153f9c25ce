using EventSourcedRegistry.Store;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>
/// Issue 13, item 4: a digest is readable only through a model the caller may read (registry-wide roles excepted) or
/// because the caller uploaded those bytes. On main, a reader of model A downloaded, HEADed and verified model B's
/// artifact, a contributor learnt from 200 against 201 whether arbitrary bytes were stored, and registered A's version
/// on B's digest.
/// </summary>
public sealed class when_reaching_artifacts_through_models(AppFixture app) : ApiTest(app)
{
    private static readonly byte[] ChurnBytes = TestContent.Bytes(1301, 3000);
    private static readonly byte[] FraudBytes = TestContent.Bytes(1302, 4000);
    private static readonly string ChurnDigest = TestContent.Sha256(ChurnBytes);
    private static readonly string FraudDigest = TestContent.Sha256(FraudBytes);
    private static readonly string UnknownDigest = new('e', 64);

    /// <summary>Models churn and fraud, each with version 1 registered on bytes its own pipeline uploaded.</summary>
    private async Task GivenTwoModelsWithUploadedArtifacts()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        foreach (var (model, bytes) in new[] { ("churn", ChurnBytes), ("fraud", FraudBytes) })
        {
            using var pipeline = await Host.ClientWithRoles($"contributor:{model}");
            var uploaded = await UploadAs(pipeline, bytes);
            Assert.Equal(201, uploaded.Status);
            var registered = await pipeline.Send(HttpMethod.Post, $"/api/v1/models/{model}/versions",
                new { artifact = new { sha256 = uploaded.Body!["sha256"]!.GetValue<string>() } });
            Assert.True(registered.Status == 201, $"registering {model}: {registered.Status} {registered.Body}");
        }
    }

    private static async Task<RegistryCalls.Response> UploadAs(HttpClient client, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await RegistryCalls.Read(await client.PostAsync("/api/v1/artifacts", content));
    }

    private static async Task<RegistryCalls.Response> Head(HttpClient client, string digest) =>
        await RegistryCalls.Read(await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/artifacts/{digest}")));

    /// <summary>A 404 whose title and detail are those of a digest that is not stored (the digest itself aside).</summary>
    private static void AssertAnsweredAsUnknown(RegistryCalls.Response response, RegistryCalls.Response unknown, string digest)
    {
        var problem = response.AssertProblem(404);
        var expected = unknown.AssertProblem(404);
        Assert.Equal(expected["title"]!.GetValue<string>(), problem["title"]!.GetValue<string>());
        Assert.Equal(expected["detail"]!.GetValue<string>().Replace(UnknownDigest, "<digest>"),
            problem["detail"]!.GetValue<string>().Replace(digest.ToLowerInvariant(), "<digest>"));
        Assert.Equal(HeaderNames(unknown), HeaderNames(response));
    }

    private static string[] HeaderNames(RegistryCalls.Response response) =>
        response.Raw.Headers.Concat(response.Raw.Content.Headers).Select(h => h.Key.ToLowerInvariant())
            .Where(h => h is not ("date" or "x-correlation-id" or "content-length")).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task a_reader_of_one_model_reads_its_artifact_and_another_models_is_404_as_if_unknown()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var reader = await Host.ClientWithRoles("reader:churn");

        using (var own = await reader.GetAsync($"/api/v1/artifacts/{ChurnDigest}"))
            Assert.Equal(ChurnBytes, await own.Content.ReadAsByteArrayAsync());
        Assert.Equal(200, (await Head(reader, ChurnDigest)).Status);
        Assert.True((await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{ChurnDigest}/verify")).Body!["verified"]!.GetValue<bool>());

        AssertAnsweredAsUnknown(await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{FraudDigest}"),
            await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{UnknownDigest}"), FraudDigest);
        AssertAnsweredAsUnknown(await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{FraudDigest}/verify"),
            await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{UnknownDigest}/verify"), FraudDigest);
        var head = await Head(reader, FraudDigest);
        var unknownHead = await Head(reader, UnknownDigest);
        Assert.Equal(404, head.Status);
        Assert.Equal(unknownHead.Status, head.Status);
        Assert.Equal(HeaderNames(unknownHead), HeaderNames(head));
        Assert.Null(head.Raw.Headers.ETag);
        // A conditional or ranged request changes nothing.
        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/artifacts/{FraudDigest}");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{FraudDigest}\""));
        conditional.Headers.Range = new RangeHeaderValue(0, 9);
        Assert.Equal(404, (int)(await reader.SendAsync(conditional)).StatusCode);
    }

    [Fact]
    public async Task registry_wide_roles_read_every_models_artifacts()
    {
        await GivenTwoModelsWithUploadedArtifacts();

        foreach (var role in new[] { "reader", "contributor", "approver", "auditor", "admin" })
        {
            using var client = await Host.ClientWithRoles(role);
            Assert.True((await client.Send(HttpMethod.Get, $"/api/v1/artifacts/{FraudDigest}/verify")).Status == 200, role);
            Assert.Equal(200, (await Head(client, ChurnDigest)).Status);
        }
        using var token = Host.ClientWithToken(Support.Access.Token("auditor-1", ["reader"]));
        Assert.Equal(200, (await Head(token, FraudDigest)).Status);
    }

    [Fact]
    public async Task a_token_reader_of_a_model_by_name_reads_only_that_models_artifacts()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var token = Host.ClientWithToken(Support.Access.Token("analyst", ["reader:churn"]));

        Assert.Equal(200, (await Head(token, ChurnDigest)).Status);
        Assert.Equal(404, (await Head(token, FraudDigest)).Status);
    }

    [Fact]
    public async Task a_caller_without_the_role_is_403_and_nothing_is_stored()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var nobody = Host.ClientWithToken(Support.Access.Token("nobody", []));
        using var reader = await Host.ClientWithRoles("reader");
        var newBytes = TestContent.Bytes(1303, 100);

        (await nobody.Send(HttpMethod.Get, $"/api/v1/artifacts/{ChurnDigest}")).AssertProblem(403);
        Assert.Equal(403, (await Head(nobody, ChurnDigest)).Status);
        (await nobody.Send(HttpMethod.Get, $"/api/v1/artifacts/{ChurnDigest}/verify")).AssertProblem(403);
        (await UploadAs(reader, newBytes)).AssertProblem(403);
        (await UploadAs(nobody, newBytes)).AssertProblem(403);

        Assert.False(File.Exists(Path.Combine(App.ArtifactsDirectory, "sha256", TestContent.Sha256(newBytes))));
    }

    /// <summary>Issue 19: a digest written sha256:-prefixed or in upper case reaches exactly what its bare form reaches.</summary>
    [Fact]
    public async Task a_digest_in_any_accepted_form_is_authorized_as_its_bare_form()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var reader = await Host.ClientWithRoles("reader:churn");
        using var nobody = Host.ClientWithToken(Support.Access.Token("nobody", []));

        foreach (var form in DigestForms.Accepted)
        {
            var churn = Uri.EscapeDataString(form.Write(ChurnDigest));
            var fraud = Uri.EscapeDataString(form.Write(FraudDigest));
            using (var own = await reader.GetAsync($"/api/v1/artifacts/{churn}"))
                Assert.True(own.IsSuccessStatusCode && (await own.Content.ReadAsByteArrayAsync()).SequenceEqual(ChurnBytes), $"{form}: {(int)own.StatusCode}");
            Assert.Equal(200, (await Head(reader, churn)).Status);
            Assert.True((await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{churn}/verify")).Body!["verified"]!.GetValue<bool>(), form.Name);

            // Another model's bytes: the same 404 as a digest never stored, whatever the form.
            AssertAnsweredAsUnknown(await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{fraud}"),
                await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{UnknownDigest}"), FraudDigest);
            AssertAnsweredAsUnknown(await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{fraud}/verify"),
                await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{UnknownDigest}/verify"), FraudDigest);
            Assert.Equal(404, (await Head(reader, fraud)).Status);

            // Without the role: 403 before the digest is read.
            (await nobody.Send(HttpMethod.Get, $"/api/v1/artifacts/{churn}")).AssertProblem(403);
            (await nobody.Send(HttpMethod.Get, $"/api/v1/artifacts/{churn}/verify")).AssertProblem(403);
        }
    }

    [Fact]
    public async Task an_upload_answers_the_same_whether_or_not_another_caller_stored_those_bytes()
    {
        await Host.RegisterModel("churn");
        using var first = await Host.ClientWithRoles("contributor:churn");
        using var second = await Host.ClientWithRoles("contributor:churn");
        var bytes = TestContent.Bytes(1304, 2500);

        var fresh = await UploadAs(first, bytes);          // the bytes were not stored
        var probe = await UploadAs(second, bytes);         // they were, by someone the prober cannot read through

        Assert.Equal(201, fresh.Status);
        Assert.Equal(fresh.Status, probe.Status);
        Assert.Equal(fresh.Body!.ToJsonString(), probe.Body!.ToJsonString());
        Assert.Equal(fresh.Raw.Headers.Location, probe.Raw.Headers.Location);
        Assert.Equal(HeaderNames(fresh), HeaderNames(probe));
        // Bytes a caller could read already are answered as stored.
        Assert.Equal(200, (await UploadAs(first, bytes)).Status);
        Assert.Equal(200, (await Host.Upload(bytes)).Status);
    }

    [Fact]
    public async Task a_probe_with_another_models_bytes_learns_nothing_and_a_declared_digest_does_not_stand_in_for_the_bytes()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var prober = await Host.ClientWithRoles("contributor:churn");

        // Declaring fraud's digest with other bytes: the bytes are checked whether or not the digest is stored.
        using var content = new ByteArrayContent(TestContent.Bytes(1305, 4000));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var declared = new HttpRequestMessage(HttpMethod.Post, "/api/v1/artifacts") { Content = content };
        declared.Headers.Add("X-Content-SHA256", FraudDigest);
        (await RegistryCalls.Read(await prober.SendAsync(declared))).AssertProblem(422);
        Assert.Equal(404, (await Head(prober, FraudDigest)).Status);

        // Uploading fraud's very bytes answers as for new bytes; having held them, the prober may read them back.
        Assert.Equal(201, (await UploadAs(prober, FraudBytes)).Status);
        Assert.Equal(200, (await Head(prober, FraudDigest)).Status);
    }

    [Fact]
    public async Task a_pipeline_reads_back_and_registers_its_own_upload()
    {
        await Host.RegisterModel("churn");
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        using var reader = await Host.ClientWithRoles("reader:churn");
        var bytes = TestContent.Bytes(1306, 1500);

        var digest = (await UploadAs(pipeline, bytes)).Body!["sha256"]!.GetValue<string>();
        Assert.Equal(200, (await Head(pipeline, digest)).Status);
        Assert.True((await pipeline.Send(HttpMethod.Get, $"/api/v1/artifacts/{digest}/verify")).Body!["verified"]!.GetValue<bool>());
        Assert.Equal(404, (await Head(reader, digest)).Status);   // not yet through the model

        Assert.Equal(201, (await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions", new { artifact = new { sha256 = digest } })).Status);
        Assert.Equal(200, (await Head(reader, digest)).Status);   // now it is
    }

    [Fact]
    public async Task registering_a_version_on_another_models_digest_is_answered_as_an_unknown_digest_and_appends_nothing()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        var before = await RegistrySnapshot.Take(Host, Store);

        var stolen = await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions", new { artifact = new { sha256 = FraudDigest } });
        var upper = await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions", new { artifact = new { sha256 = FraudDigest.ToUpperInvariant() } });
        var unknown = await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions", new { artifact = new { sha256 = UnknownDigest } });

        var expected = unknown.AssertProblem(422);
        foreach (var refused in new[] { stolen, upper })
        {
            var problem = refused.AssertProblem(422);
            Assert.Equal(expected["title"]!.GetValue<string>(), problem["title"]!.GetValue<string>());
            Assert.Equal(expected["detail"]!.GetValue<string>().Replace(UnknownDigest, "<digest>"),
                problem["detail"]!.GetValue<string>().Replace(FraudDigest, "<digest>"));
        }
        await before.AssertUnchanged(Host, Store);
        Assert.Equal(404, (await Head(pipeline, FraudDigest)).Status);
    }

    [Fact]
    public async Task an_external_reference_to_a_digest_opens_nothing_in_the_store()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        using var reader = await Host.ClientWithRoles("reader:churn");

        var external = await pipeline.Send(HttpMethod.Post, "/api/v1/models/churn/versions",
            new { artifact = new { uri = "s3://elsewhere/model.onnx", sha256 = FraudDigest, sizeBytes = 4000 } });

        Assert.Equal(201, external.Status);
        Assert.Null(external.Body!["downloadUrl"]);
        Assert.Equal(404, (await Head(pipeline, FraudDigest)).Status);
        Assert.Equal(404, (await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{FraudDigest}")).Status);
    }

    [Theory]
    [InlineData("../../../../etc/passwd")]
    [InlineData("..%2F..%2Fsha256%2F" + "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")]
    // sha256:<64 hex> is a well-formed digest (issue 19); with 63 digits it is not.
    [InlineData("sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")]
    [InlineData("md5:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")]
    [InlineData("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")]
    [InlineData("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")]
    [InlineData("gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg")]
    public async Task a_malformed_digest_is_refused_alike_for_every_caller_and_reaches_nothing(string digest)
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        var before = await RegistrySnapshot.Take(Host, Store);

        foreach (var client in new[] { pipeline, Host.Client() })
        {
            foreach (var path in new[] { $"/api/v1/artifacts/{digest}", $"/api/v1/artifacts/{digest}/verify" })
            {
                var response = await client.Send(HttpMethod.Get, path);
                Assert.True(response.Status is 400 or 404, $"GET {path}: {response.Status}");
            }
            var registered = await client.Send(HttpMethod.Post, "/api/v1/models/churn/versions", new { artifact = new { sha256 = digest } });
            registered.AssertProblem(400, "artifact.sha256");
        }
        await before.AssertUnchanged(Host, Store);
    }

    [Fact]
    public async Task a_digest_in_upper_case_is_the_same_digest_with_the_same_rule()
    {
        await GivenTwoModelsWithUploadedArtifacts();
        using var reader = await Host.ClientWithRoles("reader:churn");

        Assert.Equal(200, (await Head(reader, ChurnDigest.ToUpperInvariant())).Status);
        AssertAnsweredAsUnknown(await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{FraudDigest.ToUpperInvariant()}"),
            await reader.Send(HttpMethod.Get, $"/api/v1/artifacts/{UnknownDigest}"), FraudDigest);
    }

    [Fact]
    public async Task deleting_an_orphan_forgets_who_uploaded_it()
    {
        await Host.RegisterModel("churn");
        using var pipeline = await Host.ClientWithRoles("contributor:churn");
        var digest = (await UploadAs(pipeline, TestContent.Bytes(1307, 900))).Body!["sha256"]!.GetValue<string>();
        Assert.Equal(200, (await Head(pipeline, digest)).Status);

        var swept = await Host.Send(HttpMethod.Delete, "/api/v1/admin/artifacts/orphans?olderThan=0s");

        Assert.Equal([digest], swept.Body!["deleted"]!.AsArray().Select(o => o!["sha256"]!.GetValue<string>()));
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        Assert.Equal(0, await session.Query<EventSourcedRegistry.Artifacts.ArtifactUpload>().CountAsync());
    }
}
