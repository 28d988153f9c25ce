using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Contracts.V1;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Contracts;

/// <summary>
/// The contract records (what the .NET client reads) against the answers the running API gives, in a registry where every
/// optional part is present: each answer read into its record and written back must be the same JSON tree (a field the
/// server sends that the record lacks fails with its path), and every record property must be sent by some answer here,
/// except the few listed with the state that sends them. Guards the drift of the hand-copied client records (issue 18:
/// the model's metadataSchema and a pending request's fields were dropped).
/// </summary>
public sealed class when_the_client_reads_the_servers_answers(AppFixture app) : ApiTest(app)
{
    /// <summary>Sent only in states this registry does not reach; each stays a field the server can send.</summary>
    private static readonly Dictionary<string, string> SentElsewhere = new()
    {
        ["ModelInfo.AsOf"] = "a read asOf an instant (this one reads atSequence)",
        ["RegistryPage.AsOf"] = "a read asOf an instant (this one reads atSequence)",
        ["ModelVersionInfo.AsOf"] = "a read asOf an instant (this one reads atSequence)",
        ["RollbackOutcome.AsOf"] = "a rollback to an instant (this one rolls back to a sequence)",
        ["TransitionRequestInfo.ClosedBy"] = "a rejected or superseded request",
        ["TransitionRequestInfo.ClosedReason"] = "a rejected or superseded request",
        ["TransitionRequestInfo.SupersededBy"] = "a superseded request",
        ["ChainVerification.FirstBrokenSequence"] = "a broken chain",
        ["ChainVerification.FirstUnchainedSequence"] = "an incomplete chain",
        ["ChainVerification.Problem"] = "a broken or incomplete chain",
        ["WorkspaceChainVerification.FirstBrokenSequence"] = "a broken chain",
        ["WorkspaceChainVerification.FirstUnchainedSequence"] = "an incomplete chain",
        ["WorkspaceChainVerification.Problem"] = "a broken or incomplete chain",
        ["OperatorChainVerification.FirstBrokenPosition"] = "a broken operator chain",
        ["OperatorChainVerification.Problem"] = "a broken operator chain",
        ["Lineage.RunLink"] = "a version registered through the MLflow API",
        ["RegistryRollbackOutcome.AsOf"] = "a rollback to an instant (this one rolls back to a sequence)",
        ["CheckpointPage.NextCursor"] = "more checkpoints than a page holds (one checkpoint per new chain head)",
        ["ModelRollbackOutcome.Error"] = "a model whose rollback failed",
        ["ApiKeyGrant.Workspace"] = "a platform key's grant, shown to a platform admin",
        ["WorkspaceInfo.CreatedAt"] = "a workspace created through the API (the default one has no creation)",
        ["WorkspaceInfo.ArchivedAt"] = "an archived workspace",
    };

    [Fact]
    public async Task every_field_the_server_sends_survives_its_contract_record_and_every_record_field_is_sent()
    {
        var host = await App.GovernedHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        // Four eyes: the requester and the approver are different owners, neither having issued the other's key.
        var contributor = host.ClientWithKey((await host.CreateKey("contributor")).Key);
        var approver = host.ClientWithKey((await host.CreateKey("approver")).Key);
        var drift = new ContractDrift();

        async Task<JsonNode?> Answer(HttpMethod method, string url, object? body = null, int status = 200, HttpClient? by = null)
        {
            var response = by is null ? await host.Send(method, url, body) : await by.Send(method, url, body);
            Assert.True(response.Status == status, $"{method} {url}: {response.Status} {response.Body}");
            return response.Body;
        }

        var model = "/api/v1/models/churn";
        await Answer(HttpMethod.Post, "/api/v1/models", new { name = "churn", description = "who leaves", tags = new { team = "growth" } }, 201);
        await Answer(HttpMethod.Put, $"{model}/metadata-schema", new { schema = new { type = "object" }, reason = "a standard" });
        drift.Check<MetadataSchemaInfo>("GET /metadata-schema", await Answer(HttpMethod.Get, $"{model}/metadata-schema"));

        var bytes = RandomNumberGenerator.GetBytes(4096);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using (var upload = new HttpRequestMessage(HttpMethod.Post, "/api/v1/artifacts") { Content = new ByteArrayContent(bytes) })
        {
            upload.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            upload.Content.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "model.onnx" };
            var uploaded = await RegistryCalls.Read(await host.Client().SendAsync(upload));
            Assert.True(uploaded.Status is 200 or 201, $"upload: {uploaded.Status} {uploaded.Body}");
            drift.Check<ArtifactInfo>("POST /artifacts", uploaded.Body);
        }
        using (var orphan = new ByteArrayContent(RandomNumberGenerator.GetBytes(64)) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } })
            Assert.True((await host.Client().PostAsync("/api/v1/artifacts", orphan)).IsSuccessStatusCode, "uploading an orphan");
        drift.Check<OrphanArtifactList>("GET /admin/artifacts/orphans", await Answer(HttpMethod.Get, "/api/v1/admin/artifacts/orphans"));
        drift.Check<ArtifactVerification>("GET /artifacts/{sha256}/verify", await Answer(HttpMethod.Get, $"/api/v1/artifacts/{sha256}/verify"));

        drift.Check<ModelVersionInfo>("POST /versions", await Answer(HttpMethod.Post, $"{model}/versions", new
        {
            artifact = new { sha256 },
            lineage = new { runId = "42", sourceRepository = "git@example:churn", sourceCommit = "abc123", datasets = new[] { new { uri = "s3://d/train", digest = "d1" } } },
            @params = new { depth = "6" },
            metrics = new { auc = 0.91 },
            tags = new { owner = "ana" },
            description = "first",
            metadata = new { framework = "onnx", inputs = new[] { 1, 2 } },
        }, 201));
        await Answer(HttpMethod.Post, $"{model}/versions", new { artifact = new { uri = "s3://m/2.onnx", sha256 = RegistryCalls.Sha256B, sizeBytes = 12 } }, 201);

        var requested = await Answer(HttpMethod.Post, $"{model}/versions/1/stage", new { stage = "Production", reason = "beats v0", archiveExisting = true }, 202, contributor);
        drift.Check<TransitionRequestInfo>("POST /stage (202)", requested);
        var id = requested!["id"]!.GetValue<string>();
        var approved = await approver.Send(HttpMethod.Post, $"{model}/requests/{id}/approve", new { sha256, reason = "reviewed" });
        Assert.True(approved.Status == 200, $"approve: {approved.Status} {approved.Body}");
        drift.Check<TransitionRequestInfo>("POST /requests/{id}/approve", approved.Body);
        drift.Check<TransitionRequestInfo>("GET /requests/{id}", await Answer(HttpMethod.Get, $"{model}/requests/{id}"));

        drift.Check<AliasInfo>("PUT /aliases/{alias}", await Answer(HttpMethod.Put, $"{model}/aliases/candidate", new { version = 2, reason = "try" }));
        await Answer(HttpMethod.Put, $"{model}/aliases/candidate", new { version = 1, reason = "back" }); // a move: previousVersion
        // champion is protected and now takes two approvals: its request stays pending with one, on the external version.
        await Answer(HttpMethod.Put, "/api/v1/settings/policy", new { approvals = new { requiredApprovals = 2 } });
        var champion = await Answer(HttpMethod.Put, $"{model}/aliases/champion", new { version = 2, reason = "best" }, 202, contributor);
        drift.Check<TransitionRequestInfo>("PUT /aliases/champion (202)", champion);
        var once = await approver.Send(HttpMethod.Post, $"{model}/requests/{champion!["id"]!.GetValue<string>()}/approve",
            new { sha256 = RegistryCalls.Sha256B, reason = "looks right" });
        Assert.True(once.Status == 200, $"approve: {once.Status} {once.Body}");
        await Answer(HttpMethod.Post, "/api/v1/models", new { name = "fraud" }, 201); // a second model: pages of one have a next cursor
        drift.Check<DeploymentInfo>("POST /deployments", await Answer(HttpMethod.Post, $"{model}/deployments",
            new { version = 1, environment = "prod", target = "eu-1", action = "deployed", reason = "release" }));
        await Answer(HttpMethod.Post, $"{model}/deployments", new { version = 2, environment = "prod", target = "eu-1", action = "deployed" });

        drift.Check<ModelInfo>("GET /models/{name}", await Answer(HttpMethod.Get, model));
        drift.Check<ModelPage>("GET /models", await Answer(HttpMethod.Get, "/api/v1/models"));
        drift.Check<ModelPage>("GET /models?limit=1", await Answer(HttpMethod.Get, "/api/v1/models?limit=1"));
        drift.Check<ModelVersionInfo>("GET /versions/1", await Answer(HttpMethod.Get, $"{model}/versions/1"));
        drift.Check<ModelVersionInfo>("GET /versions/2", await Answer(HttpMethod.Get, $"{model}/versions/2"));
        drift.Check<ModelVersionInfo>("GET /aliases/candidate", await Answer(HttpMethod.Get, $"{model}/aliases/candidate"));
        drift.Check<ModelVersionPage>("GET /versions?limit=1", await Answer(HttpMethod.Get, $"{model}/versions?limit=1"));
        drift.Check<TransitionRequestList>("GET /requests", await Answer(HttpMethod.Get, $"{model}/requests"));
        drift.Check<TransitionRequestList>("GET /requests?limit=1", await Answer(HttpMethod.Get, $"{model}/requests?limit=1"));
        drift.Check<HistoryPage>("GET /history?limit=1", await Answer(HttpMethod.Get, $"{model}/history?limit=1"));
        var history = await Answer(HttpMethod.Get, $"{model}/history");
        drift.Check<HistoryPage>("GET /history", history);

        await store.WaitForAuditTrail();
        var sequence = history!["items"]!.AsArray()[^1]!["sequence"]!.GetValue<long>();
        drift.Check<ModelInfo>("GET /models/{name}?atSequence", await Answer(HttpMethod.Get, $"{model}?atSequence={sequence}"));
        drift.Check<ModelVersionInfo>("GET /versions/1?atSequence", await Answer(HttpMethod.Get, $"{model}/versions/1?atSequence={sequence}"));
        drift.Check<ModelVersionPage>("GET /versions?atSequence", await Answer(HttpMethod.Get, $"{model}/versions?atSequence={sequence}"));
        drift.Check<RegistryPage>("GET /registry?atSequence", await Answer(HttpMethod.Get, $"/api/v1/registry?atSequence={sequence}"));
        drift.Check<RegistryPage>("GET /registry?limit=1", await Answer(HttpMethod.Get, "/api/v1/registry?limit=1"));
        drift.Check<RegistryChangesPage>("GET /registry/changes", await Answer(HttpMethod.Get, "/api/v1/registry/changes?from=0"));
        drift.Check<RegistryChangesPage>("GET /registry/changes?limit=1", await Answer(HttpMethod.Get, "/api/v1/registry/changes?from=0&limit=1"));
        drift.Check<RollbackOutcome>("POST /rollback (dry run)", await Answer(HttpMethod.Post, $"{model}/rollback",
            new { atSequence = 3, reason = "regressed", dryRun = true }));
        drift.Check<DeploymentHistoryPage>("GET /deployments", await Answer(HttpMethod.Get, $"{model}/deployments"));
        drift.Check<DeploymentHistoryPage>("GET /deployments?limit=1", await Answer(HttpMethod.Get, $"{model}/deployments?limit=1"));
        drift.Check<RegistryRollbackOutcome>("POST /registry/rollback (dry run)", await Answer(HttpMethod.Post, "/api/v1/registry/rollback",
            new { atSequence = 3, reason = "regressed", dryRun = true }));
        drift.Check<CheckpointInfo>("POST /audit/checkpoints", await Answer(HttpMethod.Post, "/api/v1/audit/checkpoints", status: 201));
        drift.Check<CheckpointPage>("GET /audit/checkpoints", await Answer(HttpMethod.Get, "/api/v1/audit/checkpoints"));
        drift.Check<OperatorVerification>("GET /platform/audit/verify", await Answer(HttpMethod.Get, "/api/v1/platform/audit/verify"));
        drift.Check<AuditPage>("GET /audit", await Answer(HttpMethod.Get, "/api/v1/audit"));
        drift.Check<AuditPage>("GET /audit?limit=1", await Answer(HttpMethod.Get, "/api/v1/audit?limit=1"));
        drift.Check<ChainVerification>("GET /audit/verify", await Answer(HttpMethod.Get, "/api/v1/audit/verify"));

        var created = await Answer(HttpMethod.Post, "/api/v1/admin/keys", new { name = "ci", owner = "pipelines", grants = new[] { new { role = "contributor", model = "churn" } } }, 201);
        drift.Check<CreatedApiKey>("POST /admin/keys", created);
        drift.Check<ApiKeyList>("GET /admin/keys", await Answer(HttpMethod.Get, "/api/v1/admin/keys"));
        drift.Check<ApiKeyInfo>("DELETE /admin/keys/{id}", await Answer(HttpMethod.Delete, $"/api/v1/admin/keys/{created!["id"]!.GetValue<string>()}"));
        drift.Check<WorkspaceList>("GET /workspaces", await Answer(HttpMethod.Get, "/api/v1/workspaces"));

        drift.Check<RegistryProblem>("404 problem", await Answer(HttpMethod.Get, "/api/v1/models/missing", status: 404));
        drift.Check<RegistryProblem>("400 problem", await Answer(HttpMethod.Post, "/api/v1/models", new { name = "" }, 400));

        Assert.True(drift.Problems.Count == 0, "The contract records differ from the server's answers:\n" + string.Join("\n", drift.Problems));
        var neverSent = drift.NeverSent().Where(p => !SentElsewhere.ContainsKey(p)).ToList();
        Assert.True(neverSent.Count == 0, "Contract properties no answer carried (drift, or list the state that sends them):\n" + string.Join("\n", neverSent));
    }
}
