using System.Security.Cryptography;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using EventSourcedRegistry.Contracts.V1.Requests;

namespace EventSourcedRegistry.Api.Tests.Client;

public sealed class when_calling_the_registry_through_the_client(AppFixture app) : ApiTest(app)
{
    private RegistryClient Client(HttpMessageHandler? handler = null) => new(new RegistryClientOptions
    {
        HttpClient = handler is null ? Host.Client() : new HttpClient(handler) { BaseAddress = Host.Server.BaseAddress, DefaultRequestHeaders = { Authorization = new("ApiKey", AppFixture.AdminKey) } },
        RetryDelay = TimeSpan.FromMilliseconds(1),
    });

    private static RegisterModelVersion External(string sha256, double auc) =>
        new(new ArtifactInput($"s3://models/churn/{Guid.NewGuid():N}.onnx", sha256, 1234),
            new LineageInput(RunId: "42", SourceCommit: "abc123"), Metrics: new Dictionary<string, double> { ["auc"] = auc });

    [Fact]
    public async Task a_model_is_registered_promoted_and_aliased_with_typed_answers()
    {
        var client = Client();
        var model = await client.RegisterModelAsync("churn", tags: new Dictionary<string, string> { ["team"] = "growth" });
        Assert.Equal("churn", model.Name);
        Assert.Equal("growth", model.Tags["team"]);

        var v1 = await client.RegisterVersionAsync("churn", External(RegistryCalls.Sha256A, 0.91));
        Assert.Equal(1, v1.Version);
        Assert.Equal("42", v1.Lineage!.RunId);
        Assert.Equal(0.91, v1.Metrics["auc"]);

        var promoted = await client.TransitionStageAsync("churn", 1, "Production", "beats v0", archiveExisting: true);
        Assert.Equal("Production", promoted.Stage);
        var alias = await client.SetAliasAsync("churn", "champion", 1, "best so far");
        Assert.Equal(1, alias.Version);
        Assert.Equal(1, (await client.ResolveAliasAsync("churn", "champion")).Version);

        var now = await client.GetModelAsync("churn");
        Assert.Equal([1], now.VersionsByStage["Production"]);
        Assert.Equal(1, now.Aliases["champion"]);
        Assert.Single((await client.ListModelsAsync()).Items);
        Assert.Single((await client.ListVersionsAsync("churn")).Items);
        Assert.Equal(4, (await client.GetHistoryAsync("churn")).Items.Count);

        await client.RemoveAliasAsync("churn", "champion", "retired");
        Assert.Empty((await client.GetModelAsync("churn")).Aliases);
    }

    [Fact]
    public async Task as_of_a_sequence_and_a_rollback_dry_run_answer_from_history()
    {
        var client = Client();
        await client.RegisterModelAsync("churn");
        await client.RegisterVersionAsync("churn", External(RegistryCalls.Sha256A, 0.9));
        await client.TransitionStageAsync("churn", 1, "Production");
        var before = (await client.GetHistoryAsync("churn")).Items[^1].Sequence;
        await client.RegisterVersionAsync("churn", External(RegistryCalls.Sha256B, 0.95));
        await client.TransitionStageAsync("churn", 2, "Production", archiveExisting: true);
        await App.WaitForHighWaterMark();

        var then = await client.GetModelAsync("churn", PointInTime.AtSequence(before));
        Assert.Equal(before, then.AsOfSequence);
        Assert.Equal([1], then.VersionsByStage["Production"]);
        Assert.Equal(before, (await client.GetRegistryAsync(PointInTime.AtSequence(before))).AsOfSequence);

        var plan = await client.RollbackAsync("churn", new RollbackRequest("v2 regressed", AtSequence: before, DryRun: true));
        Assert.True(plan.DryRun);
        Assert.False(plan.Applied);
        Assert.NotEmpty(plan.Plan);
        Assert.Equal([2], (await client.GetModelAsync("churn")).VersionsByStage["Production"]);

        var changes = await client.GetChangesAsync("0");
        Assert.Contains(changes.Items, c => c.Type == "ModelVersionStageTransitioned" && c.Version == 2);
    }

    [Fact]
    public async Task an_upload_round_trips_with_progress_and_registers_by_digest()
    {
        var client = Client();
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var reported = new List<long>();
        var uploaded = await client.UploadArtifactAsync(new MemoryStream(bytes), "model.bin",
            progress: new SynchronousProgress(reported.Add));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), uploaded.Sha256);
        Assert.Equal(bytes.Length, uploaded.SizeBytes);
        Assert.Equal(bytes.Length, reported[^1]);

        await client.RegisterModelAsync("churn");
        var version = await client.RegisterVersionAsync("churn", new RegisterModelVersion(new ArtifactInput(null, uploaded.Sha256, null)));
        Assert.NotNull(version.DownloadUrl);

        var downloaded = new MemoryStream();
        Assert.Equal(bytes.Length, await client.DownloadArtifactAsync(uploaded.Sha256, downloaded));
        Assert.Equal(bytes, downloaded.ToArray());
        Assert.True((await client.VerifyArtifactAsync(uploaded.Sha256)).Verified);
    }

    /// <summary>Issue 19, item 6: on main the client wrote whatever arrived; now bytes changed on the way are refused.</summary>
    [Fact]
    public async Task a_download_whose_bytes_changed_on_the_way_throws_a_digest_mismatch()
    {
        var bytes = RandomNumberGenerator.GetBytes(100_000);
        var uploaded = await Client().UploadArtifactAsync(new MemoryStream(bytes), "model.bin");

        var mismatch = await Assert.ThrowsAsync<ArtifactDigestMismatchException>(() =>
            Client(new FlipsAByteOfEveryDownload { InnerHandler = Host.Server.CreateHandler() }).DownloadArtifactAsync(uploaded.Sha256, new MemoryStream()));

        Assert.Equal(uploaded.Sha256, mismatch.Expected);
        Assert.NotEqual(uploaded.Sha256, mismatch.Actual);
        Assert.Equal(bytes.Length, mismatch.Bytes);
    }

    [Fact]
    public async Task models_are_listed_by_tag()
    {
        var client = Client();
        await client.RegisterModelAsync("churn", tags: new Dictionary<string, string> { ["team"] = "growth", ["tier"] = "gold" });
        await client.RegisterModelAsync("ltv", tags: new Dictionary<string, string> { ["team"] = "growth" });
        await client.RegisterModelAsync("fraud", tags: new Dictionary<string, string> { ["team"] = "risk" });

        var growth = await client.ListModelsAsync(new ModelQuery(Tags: new Dictionary<string, string> { ["team"] = "growth" }));
        Assert.Equal(["churn", "ltv"], growth.Items.Select(m => m.Name));
        var gold = await client.ListModelsAsync(new ModelQuery(Tags: new Dictionary<string, string> { ["team"] = "growth", ["tier"] = "gold" }));
        Assert.Equal("churn", Assert.Single(gold.Items).Name);
        var page = await client.ListModelsAsync(new ModelQuery(Tags: new Dictionary<string, string> { ["team"] = "growth" }, Limit: 1));
        Assert.Equal("churn", Assert.Single(page.Items).Name);
        Assert.Equal("ltv", Assert.Single((await client.ListModelsAsync(new ModelQuery(Tags: new Dictionary<string, string> { ["team"] = "growth" }, Cursor: page.NextCursor))).Items).Name);
    }

    /// <summary>What a faulty proxy between the client and the registry could do to a download: the same length, one byte changed.</summary>
    private sealed class FlipsAByteOfEveryDownload : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method != HttpMethod.Get || !response.IsSuccessStatusCode) return response;
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            bytes[0] ^= 0x01;
            var content = new ByteArrayContent(bytes);
            foreach (var header in response.Content.Headers) content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            response.Content = content;
            return response;
        }
    }

    [Fact]
    public async Task an_unknown_model_is_a_request_exception_with_the_servers_detail()
    {
        var client = Client();
        var problem = await Assert.ThrowsAsync<RegistryRequestException>(() => client.GetModelAsync("nope"));
        Assert.Equal(404, problem.Status);
        Assert.Contains("nope", problem.Detail);
        Assert.Equal(problem.Detail, problem.Message);
    }

    [Fact]
    public async Task invalid_input_carries_the_validation_errors()
    {
        var problem = await Assert.ThrowsAsync<RegistryRequestException>(() => Client().RegisterModelAsync(""));
        Assert.Equal(400, problem.Status);
        Assert.Contains("name", problem.Errors.Keys);
    }

    [Fact]
    public async Task a_stale_revision_is_a_412_and_the_current_one_is_accepted()
    {
        var client = Client();
        var model = await client.RegisterModelAsync("churn");
        await client.RegisterVersionAsync("churn", External(RegistryCalls.Sha256A, 0.9), ifRevision: model.Revision);

        var stale = await Assert.ThrowsAsync<RegistryRequestException>(() =>
            client.SetAliasAsync("churn", "champion", 1, ifRevision: model.Revision));
        Assert.Equal(412, stale.Status);
        var current = (await client.GetModelAsync("churn")).Revision;
        Assert.Equal(1, (await client.SetAliasAsync("churn", "champion", 1, ifRevision: current)).Version);
    }

    [Fact]
    public async Task a_retry_after_a_lost_response_reuses_the_idempotency_key_and_appends_once()
    {
        await Client().RegisterModelAsync("churn");
        var flaky = new LoseFirstResponse { InnerHandler = Host.Server.CreateHandler() };
        var version = await Client(flaky).RegisterVersionAsync("churn", External(RegistryCalls.Sha256A, 0.9));

        Assert.Equal(1, version.Version);
        Assert.Equal(2, flaky.Keys.Count);
        Assert.Equal(flaky.Keys[0], flaky.Keys[1]);
        Assert.Single((await Client().ListVersionsAsync("churn")).Items);
        Assert.Equal(2, (await Client().GetHistoryAsync("churn")).Items.Count);
    }

    /// <summary>Lets the first request reach the server, then drops its response as a broken connection would.</summary>
    private sealed class LoseFirstResponse : DelegatingHandler
    {
        public List<string> Keys { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Keys.Add(request.Headers.GetValues(RegistryClient.IdempotencyKeyHeader).Single());
            var response = await base.SendAsync(request, cancellationToken);
            if (Keys.Count > 1) return response;
            response.Dispose();
            throw new HttpRequestException("The connection was reset after the server answered.");
        }
    }

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    [Fact]
    public async Task the_api_key_option_authenticates_every_call_and_admins_manage_keys()
    {
        var admin = Client();
        await admin.RegisterModelAsync("churn");
        var created = await admin.CreateKeyAsync("churn-reader", "churn-team", [ApiKeyGrant.Parse("reader:churn")]);
        Assert.StartsWith($"esr_{created.Id}_", created.Key);
        Assert.Equal(new ApiKeyGrant("reader", "churn", created.Grants[0].ModelId), Assert.Single(created.Grants));

        var reader = new RegistryClient(new RegistryClientOptions { HttpClient = Host.AnonymousClient(), ApiKey = created.Key });
        Assert.Equal("churn", (await reader.GetModelAsync("churn")).Name);
        var forbidden = await Assert.ThrowsAsync<RegistryRequestException>(() => reader.RegisterVersionAsync("churn", External(RegistryCalls.Sha256A, 0.9)));
        Assert.Equal(403, forbidden.Status);

        var keys = await admin.ListKeysAsync();
        Assert.Contains(keys.Items, k => k.Id == created.Id && k.RevokedAt is null);
        var revoked = await admin.RevokeKeyAsync(created.Id);
        Assert.NotNull(revoked.RevokedAt);
        Assert.Equal(401, (await Assert.ThrowsAsync<RegistryRequestException>(() => reader.GetModelAsync("churn"))).Status);

        var anonymous = new RegistryClient(new RegistryClientOptions { HttpClient = Host.AnonymousClient() });
        Assert.Equal(401, (await Assert.ThrowsAsync<RegistryRequestException>(() => anonymous.ListModelsAsync())).Status);
    }
}
