using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Access;

/// <summary>
/// Issue 13, item 5: making and revoking a key were rows of registry.api_keys only, invisible to the audit log and the
/// hash chain. Each is now an event of the access stream, appended in the key change's own transaction, with its owner;
/// never the secret or its hash.
/// </summary>
public sealed class when_keys_are_made_and_revoked(AppFixture app) : ApiTest(app)
{
    private async Task<IReadOnlyList<IEvent>> AccessEvents()
    {
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        return await session.Events.FetchStreamAsync(AccessStream.Id);
    }

    [Fact]
    public async Task creating_a_key_records_its_owner_grants_and_issuers_and_never_its_secret()
    {
        await Host.RegisterModel("churn");
        var created = await Host.Post("/api/v1/admin/keys", new
        {
            name = $"churn-ci-{Guid.NewGuid():N}", owner = "churn-training", reason = "nightly training job",
            grants = new object[] { new { role = "contributor", model = "churn" }, new { role = "reader" } },
        }).Ok(201);
        var id = created.Body!["id"]!.GetValue<string>();
        var key = created.Body["key"]!.GetValue<string>();
        Assert.Equal("churn-training", created.Body["owner"]!.GetValue<string>());
        Assert.Equal([AppFixture.AdminActor], created.Body["issuers"]!.AsArray().Select(i => i!.GetValue<string>()));

        var e = Assert.Single(await AccessEvents());
        var made = Assert.IsType<ApiKeyCreated>(e.Data);
        Assert.Equal((id, "churn-training", AppFixture.AdminActor), (made.KeyId, made.Owner, e.UserName));
        Assert.Equal(["contributor", "reader"], made.Grants.Select(g => g.Role));
        Assert.Equal(await Store.ModelId("churn"), made.Grants[0].ModelId);
        Assert.Equal([AppFixture.AdminActor], made.Issuers);
        Assert.Equal("nightly training job", e.Reason());

        var secret = key[$"esr_{id}_".Length..];
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        var stored = string.Join("\n", await App.SqlList<string>("select data::text || coalesce(headers::text, '') from registry.mt_events"));
        foreach (var trace in new[] { secret, key, Convert.ToHexString(hash), Convert.ToHexStringLower(hash), Convert.ToBase64String(hash) })
            Assert.DoesNotContain(trace, stored);

        var listed = (await Host.Get("/api/v1/admin/keys").Ok()).Body!["items"]!.AsArray().Single(k => k!["id"]!.GetValue<string>() == id)!;
        Assert.Equal("churn-training", listed["owner"]!.GetValue<string>());
    }

    [Fact]
    public async Task revoking_records_who_revoked_it_once_and_a_second_revoke_records_nothing()
    {
        var key = await Host.CreateKeyFor("someone", ["reader"]);

        await Host.Delete($"/api/v1/admin/keys/{key.Id}?reason=left%20the%20team").Ok();
        await Host.Delete($"/api/v1/admin/keys/{key.Id}").Ok();

        var events = await AccessEvents();
        Assert.Equal([typeof(ApiKeyCreated), typeof(ApiKeyRevoked)], events.Select(e => e.Data.GetType()));
        var revoked = events[1];
        Assert.Equal((key.Id, "someone", AppFixture.AdminActor, "left the team"),
            (((ApiKeyRevoked)revoked.Data).KeyId, ((ApiKeyRevoked)revoked.Data).Owner, revoked.UserName, revoked.Reason()));
    }

    [Fact]
    public async Task key_events_are_in_the_audit_log_its_exports_and_the_verified_hash_chain()
    {
        var key = await Host.CreateKeyFor("audited-owner", ["approver"]);
        await Host.Delete($"/api/v1/admin/keys/{key.Id}").Ok();
        await Host.RegisterModel("churn");
        await Store.WaitForAuditTrail();

        var rows = (await Host.Audit($"?type={nameof(ApiKeyCreated)},{nameof(ApiKeyRevoked)}")).Items();
        Assert.Equal([nameof(ApiKeyCreated), nameof(ApiKeyRevoked)], rows.Select(r => r["eventType"]!.GetValue<string>()));
        Assert.All(rows, r => Assert.Equal(AppFixture.AdminActor, r["actor"]!.GetValue<string>()));
        Assert.Equal(AccessStream.Id, rows[0]["modelId"]!.GetValue<Guid>());
        Assert.Contains($"(id {key.Id}) created for audited-owner: approver", rows[0]["summary"]!.GetValue<string>());
        Assert.Contains("revoked", rows[1]["summary"]!.GetValue<string>());
        Assert.Equal(2, (await Host.Audit($"?actor={Uri.EscapeDataString(AppFixture.AdminActor)}&model={AccessStream.Id}")).Items().Count);

        using var client = Host.Client();
        using var export = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit");
        export.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var lines = (await (await client.SendAsync(export)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal([nameof(ApiKeyCreated), nameof(ApiKeyRevoked), "ModelRegistered"], lines.Select(l => JsonNode.Parse(l)!["eventType"]!.GetValue<string>()));

        var verified = await Host.Verify();
        Assert.True(verified["verified"]!.GetValue<bool>(), verified.ToJsonString());
        Assert.Equal(3, verified["events"]!.GetValue<long>());
        Assert.Equal(await App.LastSequence(), verified["headSequence"]!.GetValue<long>());

        // Tampering with a key event breaks the chain like tampering with any other.
        await App.Sql("update registry.mt_events set data = jsonb_set(data, '{owner}', '\"someone-else\"') where type = 'api_key_created'");
        Assert.False((await Host.Verify())["verified"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData(null, "An owner is required")]
    [InlineData("   ", "An owner is required")]
    [InlineData(" alice", "leading or trailing spaces")]
    // NUL is refused by the JSON door before the owner rule sees it.
    [InlineData("alice\u0000", "NUL character")]
    [InlineData("alice\u0007", "control or invisible")]
    [InlineData("ali\u200Bce", "control or invisible")]
    [InlineData("ali\u2028ce", "control or invisible")]
    [InlineData("key:bootstrap-admin", "reserved")]
    [InlineData("KEY:someone", "reserved")]
    public async Task a_key_without_a_proper_owner_is_400_and_nothing_is_stored_or_appended(string? owner, string error)
    {
        var name = $"bad-owner-{Guid.NewGuid():N}";

        var problem = (await Host.Post("/api/v1/admin/keys", new { name, owner, grants = new[] { new { role = "reader" } } })).AssertProblem(400, "owner");

        Assert.Contains(error, problem.ToJsonString());
        Assert.Empty(await App.SqlList<string>("select id from registry.api_keys where name = $1", name));
        Assert.Empty(await AccessEvents());
    }

    [Fact]
    public async Task hostile_key_calls_are_refused_and_append_nothing()
    {
        await Host.RegisterModel("churn");
        var key = await Host.CreateKeyFor("someone", ["reader"]);
        var before = (await AccessEvents()).Count;
        var tooLong = new string('o', 201);

        (await Host.Post("/api/v1/admin/keys", new { name = $"long-{Guid.NewGuid():N}", owner = tooLong, grants = new[] { new { role = "reader" } } }))
            .AssertProblem(400, "owner");
        (await Host.Post("/api/v1/admin/keys", new { name = $"r-{Guid.NewGuid():N}", owner = "x", reason = new string('r', 5000), grants = new[] { new { role = "reader" } } }))
            .AssertProblem(400, "reason");
        (await Host.Delete($"/api/v1/admin/keys/{key.Id}?reason={new string('r', 5000)}")).AssertProblem(400, "reason");
        (await Host.Delete($"/api/v1/admin/keys/{new string('f', 5000)}")).AssertProblem(404);
        (await Host.Delete("/api/v1/admin/keys/..%2F..%2Fetc")).AssertProblem(404);
        // A caller with roles on one model only, even the contributor or approver of it, manages no keys.
        foreach (var scoped in new[] { "contributor:churn", "approver:churn", "reader:churn" })
        {
            using var client = await Host.ClientWithRoles(scoped);
            (await client.Send(HttpMethod.Post, "/api/v1/admin/keys", new { name = $"s-{Guid.NewGuid():N}", owner = "x", grants = new[] { new { role = "admin" } } })).AssertProblem(403);
            (await client.Send(HttpMethod.Delete, $"/api/v1/admin/keys/{key.Id}")).AssertProblem(403);
        }

        // The three scoped keys above were made (three events); none of the refused calls appended anything.
        Assert.Equal(before + 3, (await AccessEvents()).Count);
        Assert.Null((await Host.Get("/api/v1/admin/keys").Ok()).Body!["items"]!.AsArray().Single(k => k!["id"]!.GetValue<string>() == key.Id)!["revokedAt"]);
    }

    [Fact]
    public async Task no_key_is_stored_without_its_event()
    {
        // A fault while appending the event (here a trigger, as a full disk or a lost connection would) leaves no key.
        await App.Sql($"""
            create or replace function registry.refuse_access_events() returns trigger language plpgsql as
              $$ begin if new.stream_id = '{AccessStream.Id}' then raise exception 'no access events today'; end if; return new; end $$;
            create trigger refuse_access_events before insert on registry.mt_events for each row execute function registry.refuse_access_events();
            """);
        var name = $"doomed-{Guid.NewGuid():N}";
        RegistryCalls.Response response;
        try
        {
            response = await Host.Post("/api/v1/admin/keys", new { name, owner = "nobody", grants = new[] { new { role = "reader" } } });
        }
        finally
        {
            await App.Sql("drop trigger refuse_access_events on registry.mt_events; drop function registry.refuse_access_events();");
        }

        Assert.Equal(500, response.Status);
        Assert.Empty(await App.SqlList<string>("select id from registry.api_keys where name = $1", name));
        Assert.Empty(await AccessEvents());
        // A refused creation (the name is taken) appends nothing either.
        (await Host.Post("/api/v1/admin/keys", new { name = "bootstrap-admin", owner = "nobody", grants = new[] { new { role = "reader" } } })).AssertProblem(409);
        Assert.Empty(await AccessEvents());
    }

    [Fact]
    public async Task key_events_leave_the_model_views_the_registry_and_a_rebuild_untouched()
    {
        await Host.RegisterModel("churn");
        // More events than the test host's snapshot interval (3), so a snapshot of the access stream would be attempted.
        for (var i = 0; i < 4; i++) await Host.CreateKey("reader");
        await Host.RegisterVersion("churn");

        Assert.Equal(["churn"], (await Host.Get("/api/v1/models").Ok()).Body!["items"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
        Assert.Single((await Host.Get("/api/v1/registry").Ok()).Body!["items"]!.AsArray());
        foreach (var table in new[] { "model_snapshots", "registry_states", "deployment_history" })
            Assert.Empty(await App.SqlList<Guid>($"select model_id from registry.{table} where model_id = $1", AccessStream.Id));
        foreach (var table in new[] { "mt_doc_modelview", "mt_doc_transitionrequestsview" })
            Assert.Empty(await App.SqlList<Guid>($"select id from registry.{table} where id = $1", AccessStream.Id));

        var started = await Host.Post("/api/v1/admin/projections/rebuild", new { }).Ok(202);
        JsonNode status;
        var deadline = Stopwatch.StartNew();
        do
        {
            await Task.Delay(100);
            status = (await Host.Get("/api/v1/admin/projections")).Body!["rebuild"]!;
        } while (status["state"]!.GetValue<string>() == "running" && deadline.Elapsed < TimeSpan.FromSeconds(120));
        Assert.True(status["state"]!.GetValue<string>() == "succeeded", status.ToJsonString());
        Assert.All(status["reports"]!.AsArray(), r => Assert.True(r!["differences"]!.GetValue<long>() == 0, r.ToJsonString()));
        Assert.NotNull(started.Body);
    }
}
