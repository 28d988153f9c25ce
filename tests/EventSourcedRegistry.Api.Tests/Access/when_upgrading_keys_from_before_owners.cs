using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Tests.Support;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Access;

/// <summary>
/// Issue 13, item 5: a store whose key table predates owners opens and works. The built API starts as a process on a
/// database holding the key table exactly as the earlier build left it; each old key becomes its own owner
/// (<c>key:&lt;name&gt;</c>: nobody merged, nobody split), its issuers come from who made it, each is recorded once as
/// an <c>ApiKeyRecorded</c> event, and four eyes already holds between the old keys.
/// </summary>
// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_upgrading_keys_from_before_owners(AppFixture app) : ApiTest(app), IAsyncLifetime
{
    private readonly string _database = $"esr_upgrade_{Guid.NewGuid():N}";
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"esr-upgrade-{Guid.NewGuid():N}");

    /// <summary>The key table as the build before owners created it.</summary>
    private const string TableBeforeOwners = """
        create schema if not exists registry;
        create table registry.api_keys (
            id            text primary key,
            name          text not null unique,
            secret_sha256 bytea not null,
            grants        jsonb not null,
            created_by    text not null,
            created_at    timestamptz not null default now(),
            revoked_at    timestamptz,
            revoked_by    text
        );
        """;

    private static readonly (string Id, string Name, string Role, string CreatedBy, bool Revoked)[] OldKeys =
    [
        ("00000000000000a1", "ops", "admin", "bootstrap", false),
        ("00000000000000a2", "alice-admin", "admin", "key:ops", false),
        ("00000000000000a3", "alice-approver", "approver", "key:alice-admin", false),
        ("00000000000000a4", "bob-approver", "approver", "key:ops", false),
        ("00000000000000a5", "old-reader", "reader", "key:ops", true),
    ];

    private static string KeyOf(string id) => $"esr_{id}_secret-of-{id}-that-is-long-and-random-enough";

    private string ConnectionString => new NpgsqlConnectionStringBuilder(App.ConnectionString) { Database = _database }.ConnectionString;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await App.ResetAsync();
        await using (var admin = new NpgsqlConnection(App.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {_database}", admin);
            await create.ExecuteNonQueryAsync();
        }
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using (var table = new NpgsqlCommand(TableBeforeOwners, connection)) await table.ExecuteNonQueryAsync();
        var at = DateTimeOffset.Parse("2026-02-01T08:00:00+00:00");
        foreach (var (id, name, role, createdBy, revoked) in OldKeys)
        {
            await using var insert = new NpgsqlCommand(
                "insert into registry.api_keys (id, name, secret_sha256, grants, created_by, created_at, revoked_at, revoked_by) " +
                "values ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = id });
            insert.Parameters.Add(new NpgsqlParameter { Value = name });
            insert.Parameters.Add(new NpgsqlParameter { Value = SHA256.HashData(Encoding.UTF8.GetBytes(ApiKeys.Parse(KeyOf(id)).Secret)) });
            insert.Parameters.Add(new NpgsqlParameter { Value = $$"""[{"role":"{{role}}"}]""" });
            insert.Parameters.Add(new NpgsqlParameter { Value = createdBy });
            insert.Parameters.Add(new NpgsqlParameter { Value = at = at.AddMinutes(1) });
            insert.Parameters.Add(new NpgsqlParameter { Value = revoked ? at.AddDays(1) : DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter { Value = revoked ? "key:ops" : DBNull.Value });
            await insert.ExecuteNonQueryAsync();
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(App.ConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {_database} with (force)", admin);
        await drop.ExecuteNonQueryAsync();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    private Task<ApiProcess> Start() => ApiProcess.Start(new Dictionary<string, string?>
    {
        ["ConnectionStrings__Registry"] = ConnectionString,
        ["Registry__DataDirectory"] = _dataDirectory,
        [ApiProcess.BootstrapKeyVariable] = null,
        ["Logging__LogLevel__Default"] = "Warning",
    }, TimeSpan.FromSeconds(180)); // a new process's first call compiles its endpoint: beyond 60 s once under a load of 40

    private static async Task<RegistryCalls.Response> Call(ApiProcess api, string keyId, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("ApiKey", KeyOf(keyId));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType());
        return await RegistryCalls.Read(await api.Client.SendAsync(request));
    }

    /// <summary>The audit log's key records, once the log is complete through every event in the store.</summary>
    private async Task<List<JsonNode>> Recorded(ApiProcess api)
    {
        await using var data = NpgsqlDataSource.Create(ConnectionString);
        await using var last = data.CreateCommand("select coalesce(max(seq_id), 0) from registry.mt_events");
        var newest = (long)(await last.ExecuteScalarAsync())!;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var page = (await Call(api, "00000000000000a1", HttpMethod.Get, "/api/v1/audit?type=ApiKeyRecorded").Ok()).Body!;
            if (page["completeThrough"]!.GetValue<long>() >= newest) return page.Items();
            if (deadline.Elapsed > AuditCalls.CatchUpTimeout) throw new TimeoutException($"The audit log stayed behind sequence {newest}: {page.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task each_old_key_becomes_its_own_owner_is_recorded_once_and_four_eyes_holds_between_them()
    {
        await using (var api = await Start())
        {
            var keys = (await Call(api, "00000000000000a1", HttpMethod.Get, "/api/v1/admin/keys").Ok()).Body!["items"]!.AsArray()
                .ToDictionary(k => k!["name"]!.GetValue<string>(), k => k!);
            // Workspaces: the store had admins but no platform admin, so a bootstrap key was made for the platform
            // only; it gains no power over the default workspace, whose admins were already there.
            var bootstrap = Assert.Single(keys, k => k.Key.StartsWith("bootstrap-admin", StringComparison.Ordinal)).Value;
            Assert.Equal(["platform-admin"], bootstrap["grants"]!.AsArray().Select(g => g!["role"]!.GetValue<string>()));
            keys.Remove(bootstrap["name"]!.GetValue<string>());
            Assert.Equal(OldKeys.Select(k => k.Name).Order(), keys.Keys.Order());
            Assert.All(keys, k => Assert.Equal("key:" + k.Key, k.Value["owner"]!.GetValue<string>()));
            Assert.Equal(["key:alice-admin", "key:ops"], keys["alice-approver"]["issuers"]!.AsArray().Select(i => i!.GetValue<string>()));
            Assert.Empty(keys["ops"]["issuers"]!.AsArray());
            (await Call(api, "00000000000000a5", HttpMethod.Get, "/api/v1/models")).AssertProblem(401);

            var recorded = await Recorded(api);
            Assert.Equal(OldKeys.Length, recorded.Count);
            Assert.All(recorded, r => Assert.Equal("upgrade", r["actor"]!.GetValue<string>()));
            Assert.Contains(recorded, r => r["summary"]!.GetValue<string>().Contains("\"old-reader\"") && r["summary"]!.GetValue<string>().Contains("revoked by key:ops"));

            // The old keys work, and four eyes compares them by owner and issuer.
            await Call(api, "00000000000000a1", HttpMethod.Post, "/api/v1/models", new { name = "churn" }).Ok(201);
            await Call(api, "00000000000000a1", HttpMethod.Post, "/api/v1/models/churn/versions",
                new { artifact = new { uri = "s3://m/churn.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } }).Ok(201);
            var requested = await Call(api, "00000000000000a2", HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Production" });
            Assert.Equal(202, requested.Status);
            var approve = $"/api/v1/models/churn/requests/{requested.Body!["id"]}/approve";
            Assert.Contains("key:alice-admin issued", (await Call(api, "00000000000000a3", HttpMethod.Post, approve, new { })).AssertProblem(409)["detail"]!.GetValue<string>());
            await Call(api, "00000000000000a4", HttpMethod.Post, approve, new { }).Ok();

            // A key an old key makes lists it (and its maker) as issuers.
            var made = await Call(api, "00000000000000a2", HttpMethod.Post, "/api/v1/admin/keys",
                new { name = "carol", owner = "carol@example.com", grants = new[] { new { role = "approver" } } }).Ok(201);
            Assert.Equal(["key:alice-admin", "key:ops"], made.Body!["issuers"]!.AsArray().Select(i => i!.GetValue<string>()));

            var verified = (await Call(api, "00000000000000a1", HttpMethod.Get, "/api/v1/audit/verify").Ok()).Body!;
            Assert.True(verified["verified"]!.GetValue<bool>(), verified.ToJsonString());
        }

        // A second start finds the table upgraded: nothing recorded again, the keys still work.
        await using (var again = await Start())
        {
            await Call(again, "00000000000000a3", HttpMethod.Get, "/api/v1/models").Ok();
            var recorded = await Recorded(again);
            Assert.Equal(OldKeys.Length, recorded.Count);
        }
    }
}
