using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20's acceptance for audit: each workspace has its own hash chain, checkpoints, log and export; a tampered
/// event in workspace B is reported by B's verify and is not visible to A's auditor. A is <c>default</c>, B is
/// <c>team-b</c>, and both hold a model named <c>churn</c>.
/// </summary>
public sealed class when_auditing_workspaces_apart(AppFixture app) : ApiTest(app)
{
    private static readonly WorkspaceId A = WorkspaceId.Default;
    private static readonly WorkspaceId B = WorkspaceId.Parse("team-b");
    private const string BSecret = "b-only-description";
    private const string BActor = "key:b-admin";
    private Guid _bModel;

    [Fact]
    public async Task each_workspace_verifies_its_own_chain_from_its_own_genesis()
    {
        var (aSequences, bSequences) = await TwoWorkspaces();

        var a = await Host.VerifyIn(A, "?full=true");
        var b = await Host.VerifyIn(B, "?full=true");

        Assert.True(a["verified"]!.GetValue<bool>(), a.ToJsonString());
        Assert.True(b["verified"]!.GetValue<bool>(), b.ToJsonString());
        Assert.Equal(aSequences.Count, a["events"]!.GetValue<long>());
        Assert.Equal(bSequences.Count, b["events"]!.GetValue<long>());
        // B counts from its own first sequence: nothing of A's activity shows in B's numbers.
        Assert.Equal([1L, 2L, 3L], bSequences);
        Assert.Equal(3, b["headSequence"]!.GetValue<long>());
        Assert.Equal(aSequences, await App.SqlList<long>("select seq_id from registry.audit_chain where tenant_id = 'default' order by seq_id"));
        Assert.Equal(bSequences, await App.SqlList<long>("select seq_id from registry.audit_chain where tenant_id = 'team-b' order by seq_id"));
        Assert.Equal([0L], await App.SqlList<long>("select prev_seq from registry.audit_chain where tenant_id = 'team-b' and seq_id = 1"));
    }

    [Fact]
    public async Task a_tampered_event_in_b_is_reported_by_bs_verify_and_as_verify_stays_verified()
    {
        var (aSequences, _) = await TwoWorkspaces();
        Assert.Equal(1, await App.Sql(
            "update registry.mt_events set data = jsonb_set(data, '{description}', '\"tampered\"') where tenant_id = 'team-b' and seq_id = 2"));

        var b = await Host.VerifyIn(B, "?full=true");
        var bIncremental = await Host.VerifyIn(B);
        var a = await Host.VerifyIn(A, "?full=true");
        var aIncremental = await Host.VerifyIn(A);

        Assert.False(b["verified"]!.GetValue<bool>());
        Assert.Equal("broken", b["state"]!.GetValue<string>());
        Assert.Equal(2, b["firstBrokenSequence"]!.GetValue<long>());
        Assert.Contains("Event 2 differs", b["problem"]!.GetValue<string>());
        Assert.False(bIncremental["verified"]!.GetValue<bool>());
        Assert.True(a["verified"]!.GetValue<bool>(), a.ToJsonString());
        Assert.True(aIncremental["verified"]!.GetValue<bool>(), aIncremental.ToJsonString());
        Assert.Equal(aSequences.Count, a["events"]!.GetValue<long>());
        // A's auditor sees nothing of B's trouble: not its sequence, not its words.
        Assert.DoesNotContain("tampered", a.ToJsonString());
        Assert.Null(a["problem"]);
    }

    [Fact]
    public async Task as_export_and_query_hold_nothing_of_b_and_bs_hold_nothing_of_a()
    {
        var (aSequences, bSequences) = await TwoWorkspaces();

        var aPage = (await Host.InWorkspace(A, "GET", "/api/v1/audit?limit=1000")).Json;
        var aNdjson = await Host.InWorkspace(A, "GET", "/api/v1/audit", accept: "application/x-ndjson");
        var aCsv = await Host.InWorkspace(A, "GET", "/api/v1/audit?format=csv");
        var aChurn = (await Host.InWorkspace(A, "GET", "/api/v1/audit?model=churn")).Json;
        var aByBsId = await Host.InWorkspace(A, "GET", $"/api/v1/audit?model={_bModel}");
        var aByBsActor = (await Host.InWorkspace(A, "GET", $"/api/v1/audit?actor={BActor}")).Json;
        var bPage = (await Host.InWorkspace(B, "GET", "/api/v1/audit")).Json;
        var bChurn = (await Host.InWorkspace(B, "GET", "/api/v1/audit?model=churn")).Json;

        Assert.Equal(aSequences, aPage.Items().Select(i => i["sequence"]!.GetValue<long>()).ToList());
        Assert.Equal(200, aNdjson.Status);
        Assert.Equal(aSequences.Count, aNdjson.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(200, aCsv.Status);
        foreach (var text in new[] { aPage.ToJsonString(), aNdjson.Text, aCsv.Text, aChurn.ToJsonString() })
        {
            Assert.DoesNotContain(BSecret, text);
            Assert.DoesNotContain(BActor, text);
            Assert.DoesNotContain(_bModel.ToString(), text);
        }
        Assert.All(aChurn.Items(), i => Assert.NotEqual(_bModel, i["modelId"]!.GetValue<Guid>()));
        // B's model is no model at all to A's auditor: the answer of an id no model ever had.
        var never = await Host.InWorkspace(A, "GET", $"/api/v1/audit?model={Guid.NewGuid()}");
        Assert.Equal(never.Status, aByBsId.Status);
        Assert.Empty(aByBsId.Json.Items());
        Assert.Equal(never.Json.ToJsonString(), aByBsId.Json.ToJsonString());
        Assert.Empty(aByBsActor.Items());
        // Completeness is counted in A's own sequences.
        Assert.Equal(aSequences[^1].ToString(), aNdjson.Headers["X-Audit-Complete-Through"].ToString());

        Assert.Equal(bSequences, bPage.Items().Select(i => i["sequence"]!.GetValue<long>()).ToList());
        Assert.All(bPage.Items(), i => Assert.Equal(_bModel, i["modelId"]!.GetValue<Guid>()));
        Assert.Equal(bSequences.Count, bChurn.Items().Count);
        Assert.Equal(bSequences[^1], bPage["completeThrough"]!.GetValue<long>());
    }

    [Fact]
    public async Task a_checkpoint_of_b_does_not_verify_as_as()
    {
        await TwoWorkspaces();
        var signed = await Host.InWorkspace(B, "POST", "/api/v1/audit/checkpoints");
        Assert.Equal(201, signed.Status);
        var checkpoint = signed.Json;
        Assert.Equal("team-b", checkpoint["workspace"]!.GetValue<string>());
        Assert.StartsWith("esr-audit-checkpoint/v2 workspace=team-b sequence=3 ", checkpoint["message"]!.GetValue<string>());
        Assert.Empty((await Host.InWorkspace(A, "GET", "/api/v1/audit/checkpoints")).Json["items"]!.AsArray());

        // Presented by its sequence and head to A's verify: A's chain does not have that head there.
        var presented = await Host.VerifyIn(A, $"?sequence={checkpoint["sequence"]}&head={checkpoint["head"]}");
        // Put among A's stored checkpoints by someone with the database: its signature is not valid for A.
        await App.Sql("""
            begin;
            create temp table moved on commit drop as select * from registry.mt_doc_auditcheckpoint where tenant_id = 'team-b';
            update moved set tenant_id = 'default';
            insert into registry.mt_doc_auditcheckpoint select * from moved;
            commit;
            """);
        var stored = await Host.VerifyIn(A);

        Assert.False(presented["verified"]!.GetValue<bool>(), presented.ToJsonString());
        Assert.Equal(checkpoint["sequence"]!.GetValue<long>(), presented["firstBrokenSequence"]!.GetValue<long>());
        Assert.False(stored["verified"]!.GetValue<bool>(), stored.ToJsonString());
        Assert.Contains("invalid signature for this workspace", stored["problem"]!.GetValue<string>());
        Assert.True((await Host.VerifyIn(B))["verified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task the_operator_chain_links_every_workspaces_checkpoints_and_the_operator_verify_names_the_broken_workspace()
    {
        await TwoWorkspaces();
        Assert.Equal(201, (await Host.InWorkspace(A, "POST", "/api/v1/audit/checkpoints")).Status);
        Assert.Equal(201, (await Host.InWorkspace(B, "POST", "/api/v1/audit/checkpoints")).Status);
        var signer = Host.Services.GetRequiredService<CheckpointSigner>();

        var intact = await OperatorVerification.CheckAsync(Store, signer, full: true, CancellationToken.None);
        Assert.True(intact.Verified, Describe(intact));
        Assert.Equal(2, intact.OperatorChain.Links);
        Assert.Equal(["default", "team-b"], await App.SqlList<string>(
            "select workspace from registry.audit_operator_chain where tenant_id = '~platform' order by position"));
        Assert.Contains(intact.Workspaces, w => w.Workspace == B && w.Chain.Verified);

        await App.Sql("update registry.mt_events set user_name = 'someone-else' where tenant_id = 'team-b' and seq_id = 1");
        var bTampered = await OperatorVerification.CheckAsync(Store, signer, full: true, CancellationToken.None);
        Assert.False(bTampered.Verified);
        Assert.True(bTampered.OperatorChain.Verified);
        Assert.Equal(1, bTampered.Workspaces.Single(w => w.Workspace == B).Chain.FirstBrokenSequence);
        Assert.True(bTampered.Workspaces.Single(w => w.Workspace == A).Chain.Verified);

        await App.Sql("update registry.audit_operator_chain set sequence = sequence + 1 where tenant_id = '~platform' and position = 2");
        var linkTampered = await OperatorVerification.CheckAsync(Store, signer, full: false, CancellationToken.None);
        Assert.False(linkTampered.OperatorChain.Verified);
        Assert.Equal(2, linkTampered.OperatorChain.FirstBrokenPosition);
    }

    [Fact]
    public async Task the_operator_verify_is_for_the_platform_admin_only()
    {
        await TwoWorkspaces();
        var anonymous = await Host.AnonymousClient().Send(HttpMethod.Get, "/api/v1/platform/audit/verify");
        var workspaceAdmin = await (await Host.ClientWithRoles("admin")).Send(HttpMethod.Get, "/api/v1/platform/audit/verify");
        var auditor = await (await Host.ClientWithRoles("auditor")).Send(HttpMethod.Get, "/api/v1/platform/audit/verify");
        var modelScoped = await (await Host.ClientWithRoles("reader:churn")).Send(HttpMethod.Get, "/api/v1/platform/audit/verify?full=maybe");

        Assert.Equal(401, anonymous.Status);
        Assert.Equal(403, workspaceAdmin.Status);
        Assert.Equal(403, auditor.Status);
        Assert.Equal(403, modelScoped.Status);
        foreach (var response in new[] { anonymous, workspaceAdmin, auditor, modelScoped })
            Assert.DoesNotContain("team-b", response.Body?.ToJsonString() ?? "");
    }

    [Fact]
    public async Task health_judges_every_workspaces_chain_and_names_none_to_anonymous_callers()
    {
        await TwoWorkspaces();
        var healthy = await Host.AnonymousClient().GetAsync("/health/audit");
        Assert.Equal(200, (int)healthy.StatusCode);

        // B's chain cannot pass an event whose stored JSON has no canonical form (nested past 256 levels).
        var deep = string.Concat(Enumerable.Repeat("[", 300)) + string.Concat(Enumerable.Repeat("]", 300));
        await App.Sql($"""
            begin;
            create temp table forged on commit drop as select * from registry.mt_events where tenant_id = 'team-b' and seq_id = 3;
            update forged set seq_id = 4, id = gen_random_uuid(), version = version + 1, data = jsonb_build_object('deep', '{deep}'::jsonb);
            insert into registry.mt_events select * from forged;
            commit;
            """);
        try
        {
            var stalled = await Host.AnonymousClient().GetAsync("/health/audit");
            var body = await stalled.Content.ReadAsStringAsync();

            Assert.Equal(503, (int)stalled.StatusCode);
            Assert.DoesNotContain("team-b", body);
            Assert.DoesNotContain("~platform", body);
            Assert.True((await Host.VerifyIn(A))["verified"]!.GetValue<bool>());
            Assert.Equal("incomplete", (await Host.VerifyIn(B))["state"]!.GetValue<string>());
        }
        finally
        {
            // Leave a chain the next test's reset can restart.
            await App.Sql("delete from registry.mt_events where tenant_id = 'team-b' and seq_id = 4");
        }
    }

    [Fact]
    public async Task rebuilding_bs_audit_log_rewrites_bs_rows_only()
    {
        var (aSequences, _) = await TwoWorkspaces();
        await App.Sql("update registry.audit_log set summary = 'damaged' where tenant_id = 'team-b'");
        await App.Sql("update registry.audit_log set summary = 'marker' where tenant_id = 'default' and seq_id = $1", aSequences[0]);

        // Through the product's rebuild (what POST /api/v1/admin/projections/rebuild runs), which works whichever runs the
        // audit: Marten's daemon is off by default (the audit worker), so driving the daemon directly is no test of it.
        var rebuild = await Host.Services.GetRequiredService<EventSourcedRegistry.Api.Admin.ProjectionRebuilds>()
            .RunAsync(B, [AuditTrail.AuditLogProjectionName], CancellationToken.None);
        Assert.True(rebuild.State == "succeeded", $"{rebuild.State}: {rebuild.Error}");
        Assert.Equal("team-b", rebuild.Workspace);

        Assert.DoesNotContain("damaged", await App.SqlList<string>("select summary from registry.audit_log where tenant_id = 'team-b'"));
        Assert.Equal(3, (await App.SqlList<string>("select summary from registry.audit_log where tenant_id = 'team-b'")).Count);
        Assert.Equal(["marker"], await App.SqlList<string>("select summary from registry.audit_log where tenant_id = 'default' and seq_id = $1", aSequences[0]));
        Assert.Equal(aSequences.Count, (await App.SqlList<long>("select seq_id from registry.audit_log where tenant_id = 'default'")).Count);
    }

    /// <summary>
    /// A (default) through the API; B registered as a tenant and written in its own sessions, with the same model name.
    /// Returns each workspace's sequences once both audit trails caught up.
    /// </summary>
    private async Task<(List<long> A, List<long> B)> TwoWorkspaces()
    {
        await WorkspacePartitions.AddAsync(Store, B, CancellationToken.None);
        await Host.CreateInDirectory(B);

        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production", reason: "first release");

        _bModel = Guid.NewGuid();
        await using (var session = Store.LightweightSession(B.TenantId))
        {
            session.LastModifiedBy = BActor;
            session.Events.StartStream(_bModel,
                new ModelRegistered(_bModel, "churn", BSecret, new Dictionary<string, string>()),
                new ModelMetadataEdited(_bModel, BSecret + " again", new Dictionary<string, string> { ["team"] = "b" }, []),
                new ModelArchived(_bModel));
            await session.SaveChangesAsync();
        }
        await Store.WaitForAuditTrail();
        var a = await App.SqlList<long>("select seq_id from registry.mt_events where tenant_id = 'default' order by seq_id");
        var b = await App.SqlList<long>("select seq_id from registry.mt_events where tenant_id = 'team-b' order by seq_id");
        await WaitFor(() => App.SqlList<long>("select seq_id from registry.audit_log where tenant_id = 'team-b' order by seq_id"), l => l.Count == b.Count);
        return (a, b);
    }

    private static async Task<T> WaitFor<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + AuditCalls.CatchUpTimeout;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(100);
        }
    }

    private static string Describe(OperatorVerification verdict) =>
        $"{verdict.OperatorChain}; " + string.Join("; ", verdict.Workspaces.Select(w => $"{w.Workspace}: {w.Chain.State} {w.Chain.Problem}"));
}
