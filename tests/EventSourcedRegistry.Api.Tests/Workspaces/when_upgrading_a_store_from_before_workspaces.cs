using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Testing;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20's acceptance: a store written before workspaces opens unchanged as the <c>default</c> workspace. The
/// fixture (PreWorkspacesStore, see its README) is the schema the registry built before tenancy left after a real
/// history written through its API, with what that API answered. The built API starts as a process on it.
/// </summary>
// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_upgrading_a_store_from_before_workspaces(AppFixture app) : ApiTest(app), IAsyncLifetime
{
    private readonly string _database = $"esr_preworkspaces_{Guid.NewGuid():N}";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"esr-preworkspaces-{Guid.NewGuid():N}");
    private static readonly string Fixture = Path.Combine(RepositoryRoot(), "tests", "EventSourcedRegistry.Api.Tests", "Workspaces", "PreWorkspacesStore");
    private static readonly JsonObject Keys = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture, "keys.json")))!.AsObject();
    private static readonly string Default = WorkspaceId.Default.TenantId;

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
        await using (var load = new NpgsqlCommand(await File.ReadAllTextAsync(Path.Combine(Fixture, "store.sql")), connection))
            await load.ExecuteNonQueryAsync();
        CopyDirectory(Path.Combine(Fixture, "artifacts"), Path.Combine(_directory, "artifacts"));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(App.ConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {_database} with (force)", admin);
        await drop.ExecuteNonQueryAsync();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["ConnectionStrings__Registry"] = ConnectionString,
        ["Registry__DataDirectory"] = _directory,
        ["Registry__Artifacts__Directory"] = Path.Combine(_directory, "artifacts"),
        [ApiProcess.BootstrapKeyVariable] = Key("admin"),
        ["Registry__TimeTravel__SnapshotEvery"] = "5",
        ["Registry__RateLimits__Enabled"] = "false",
        ["Registry__Audit__CheckpointInterval"] = "00:00:00",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    private Task<ApiProcess> Start() => ApiProcess.Start(Environment(), TimeSpan.FromSeconds(60));

    private static string Key(string name) => Keys[name]!.GetValue<string>();

    private static async Task<RegistryCalls.Response> Call(ApiProcess api, string key, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("ApiKey", Key(key));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType());
        return await RegistryCalls.Read(await api.Client.SendAsync(request));
    }

    private async Task<PreWorkspacesUpgrade.Figures> Events(string schema, string filter = "true")
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return await PreWorkspacesUpgrade.EventFiguresAsync(connection, schema, filter, CancellationToken.None);
    }

    private async Task<T> Scalar<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task the_store_opens_as_default_with_its_events_untouched_and_every_recorded_answer_the_same()
    {
        var before = await Events("registry");
        Assert.True(before.Count > 40, $"the fixture holds {before.Count} events");

        await using var api = await Start();

        // Byte for byte: every column that makes an event, in the default workspace and in the kept source alike.
        Assert.Equal(before, await Events("registry", $"tenant_id = '{Default}'"));
        Assert.Equal(before, await Events(PreWorkspacesUpgrade.SourceSchema));
        Assert.Equal(0L, await Scalar<long>($"select count(*) from registry.mt_events where tenant_id <> '{Default}' and tenant_id <> '~platform'"));
        Assert.Equal('p', await Scalar<char>("select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'registry' and c.relname = 'mt_events'"));
        Assert.Contains("Upgraded the store written before workspaces", api.Output);

        var answers = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Fixture, "answers.json")))!.AsArray();
        Assert.True(answers.Count >= 25);
        var differences = new List<string>();
        foreach (var answer in answers)
        {
            var path = "/api/v1" + answer!["path"]!.GetValue<string>();
            var response = await Call(api, answer["key"]!.GetValue<string>(), HttpMethod.Get, path);
            var expected = WithoutTrace(answer["body"]);
            var actual = WithoutFieldsAddedSinceTheRecording(WithoutTrace(response.Body));
            if (answer["name"]!.GetValue<string>() == "keys") actual = AsKeysWereListed(actual);
            if (response.Status != answer["status"]!.GetValue<int>() || !JsonNode.DeepEquals(expected, actual))
                differences.Add($"{answer["name"]} ({path}): {answer["status"]} {expected?.ToJsonString()}\n  now {response.Status} {actual?.ToJsonString()}");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));

        // The hash chain made before workspaces verifies from its first link against the copied events.
        var verify = (await Call(api, "auditor", HttpMethod.Get, "/api/v1/audit/verify?full=true")).Body!;
        Assert.True(verify["verified"]!.GetValue<bool>(), verify.ToJsonString());
        Assert.Equal(before.Count, verify["events"]!.GetValue<long>());

        // The artifact uploaded before workspaces is still served from where it was stored.
        var version = (await Call(api, "dev", HttpMethod.Get, "/api/v1/models/churn/versions/1")).Body!;
        var sha256 = version["artifact"]!["sha256"]!.GetValue<string>();
        using var download = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/artifacts/{sha256}");
        download.Headers.Authorization = new("ApiKey", Key("dev"));
        using var bytes = await api.Client.SendAsync(download);
        Assert.Equal(200, (int)bytes.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Fixture, "artifacts", "sha256", sha256)), await bytes.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task old_keys_work_a_new_command_appends_at_the_next_sequence_and_a_second_start_does_nothing()
    {
        var before = await Events("registry");
        var last = await Scalar<long>("select max(seq_id) from registry.mt_events");
        string marker;
        await using (var api = await Start())
        {
            marker = await Scalar<string>($"select row(m.*)::text from {PreWorkspacesUpgrade.MarkerTable} m");

            // The reviewer's key, made before workspaces, approves the request left pending; the contributor's reads.
            var approved = await Call(api, "reviewer", HttpMethod.Post,
                $"/api/v1/models/churn/requests/{Keys["pendingRequest"]!.GetValue<string>()}/approve", new { reason = "after the upgrade" });
            Assert.True(approved.Status == 200, approved.Body?.ToJsonString());
            var history = (await Call(api, "dev", HttpMethod.Get, "/api/v1/models/churn/history")).Body!["items"]!.AsArray();
            var appended = history.Where(e => e!["sequence"]!.GetValue<long>() > last).ToList();
            Assert.Equal(last + 1, appended.Min(e => e!["sequence"]!.GetValue<long>()));
            Assert.Equal("ModelVersionStageTransitioned", history[^1]!["type"]!.GetValue<string>());
            Assert.Equal(401, (await Call(api, "temp", HttpMethod.Get, "/api/v1/models/churn")).Status);

            // The chain continues over the new events from the links made before workspaces.
            var deadline = Stopwatch.StartNew();
            JsonNode verify;
            do
            {
                verify = (await Call(api, "auditor", HttpMethod.Get, "/api/v1/audit/verify?full=true")).Body!;
                if (verify["headSequence"]?.GetValue<long>() > last) break;
                await Task.Delay(250);
            } while (deadline.Elapsed < AuditCalls.CatchUpTimeout);
            Assert.True(verify["verified"]!.GetValue<bool>() && verify["headSequence"]!.GetValue<long>() > last, verify.ToJsonString());
        }

        var afterFirst = await Events("registry", $"tenant_id = '{Default}'");
        await using (var again = await Start())
        {
            Assert.DoesNotContain("Upgraded the store written before workspaces", again.Output);
            Assert.Equal(marker, await Scalar<string>($"select row(m.*)::text from {PreWorkspacesUpgrade.MarkerTable} m"));
            Assert.Equal(afterFirst, await Events("registry", $"tenant_id = '{Default}'"));
            Assert.Equal(before, await Events(PreWorkspacesUpgrade.SourceSchema));
            Assert.Equal(200, (await Call(again, "churn-reader", HttpMethod.Get, "/api/v1/models/churn")).Status);
        }
    }

    /// <summary>
    /// Regression: the copy reads each event into today's class and writes it again, which gave an event stored before
    /// a field was added (approvals before owners: no requesterOwner) that field as null, and "no headers" SQL NULL
    /// instead of the stored JSON null; the check refused such stores. The stored payloads are now put back.
    /// </summary>
    [Fact]
    public async Task events_stored_before_a_field_was_added_are_copied_as_they_were_stored()
    {
        Assert.True(await Execute("update registry.mt_events set data = data - 'requesterOwner' - 'requesterKeyId' - 'requesterKeyIssuers' " +
                                  "where type = 'transition_requested'") >= 3);
        var before = await Events("registry");

        await using var api = await Start();

        Assert.Equal(before, await Events("registry", $"tenant_id = '{Default}'"));
        Assert.Equal(0L, await Scalar<long>($"select count(*) from registry.mt_events where type = 'transition_requested' and data ? 'requesterOwner'"));
        Assert.Equal(200, (await Call(api, "reviewer", HttpMethod.Get, "/api/v1/models/churn/requests")).Status);
    }

    [Fact]
    public async Task an_event_the_copy_cannot_read_stops_the_upgrade_and_the_source_is_kept()
    {
        Assert.Equal(1, await Execute("update registry.mt_events set type = 'model_teleported', " +
                                      "mt_dotnet_type = 'EventSourcedRegistry.Models.ModelTeleported, EventSourcedRegistry' " +
                                      "where seq_id = (select max(seq_id) from registry.mt_events where type = 'model_renamed')"));
        var before = await Events("registry");

        var (exitCode, output) = await RunToExit();

        Assert.Equal(1, exitCode);
        Assert.Contains("Not serving", output);
        Assert.Contains("ModelTeleported", output);
        Assert.Equal(before, await Events(PreWorkspacesUpgrade.SourceSchema));
        Assert.Equal(0L, await Scalar<long>($"select count(*) from {PreWorkspacesUpgrade.MarkerTable} where finished_at is not null"));

        // The next start does not serve the unfinished copy: it makes it again, and refuses again.
        var (secondExit, secondOutput) = await RunToExit();
        Assert.Equal(1, secondExit);
        Assert.Contains("Not serving", secondOutput);
        Assert.Equal(before, await Events(PreWorkspacesUpgrade.SourceSchema));
    }

    /// <summary>The check that lets the API serve must see any difference: each change to the copy is caught, and none is left.</summary>
    [Fact]
    public async Task the_check_finds_any_difference_between_the_copy_and_the_source()
    {
        // The upgrade alone, in this process: a started API would go on writing (keys, audit log) and differ by itself.
        var outcome = await PreWorkspacesUpgrade.RunAsync(ConnectionString, options =>
        {
            options.Connection(ConnectionString);
            options.ConfigureRegistry();
        }, EventSourcedRegistry.Api.Hosting.StoreUpgrade.HostTables, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        Assert.True(outcome.State == PreWorkspacesUpgrade.State.Upgraded, outcome.Summary);
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        Assert.Empty(await PreWorkspacesUpgrade.VerifyAsync(connection, CancellationToken.None));

        (string Change, string Caught)[] changes =
        [
            ($"update registry.mt_events set data = data || '{{\"name\": \"other\"}}' where tenant_id = '{Default}' and seq_id = (select min(seq_id) from registry.mt_events where tenant_id = '{Default}')", "events:"),
            ($"update registry.mt_events set headers = null where tenant_id = '{Default}' and seq_id = (select max(seq_id) from registry.mt_events where tenant_id = '{Default}')", "events:"),
            ($"update registry.mt_events set timestamp = timestamp + interval '1 microsecond' where tenant_id = '{Default}' and seq_id = 3", "events:"),
            ($"delete from registry.mt_events where tenant_id = '{Default}' and seq_id = (select max(seq_id) from registry.mt_events where tenant_id = '{Default}')", "events:"),
            ($"update registry.mt_streams set version = version + 1 where tenant_id = '{Default}' and id = (select id from registry.mt_streams where tenant_id = '{Default}' order by id limit 1)", "streams:"),
            ($"update registry.deployment_history set entered_by = 'someone else' where ctid = (select min(ctid) from registry.deployment_history)", "deployment_history:"),
            ($"delete from registry.mt_doc_modelview where ctid = (select min(ctid) from registry.mt_doc_modelview)", "mt_doc_modelview:"),
        ];
        foreach (var (change, caught) in changes)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand(change, connection)) await command.ExecuteNonQueryAsync();
            var problems = await PreWorkspacesUpgrade.VerifyAsync(connection, CancellationToken.None);
            if (caught.Length == 0) Assert.Empty(problems);
            else Assert.True(problems.Any(p => p.StartsWith(caught, StringComparison.Ordinal)), $"{change}: {string.Join("; ", problems)}");
            await transaction.RollbackAsync();
        }

        // Sequences are not transactional: each is moved back and then restored.
        foreach (var (sequence, caught, restore) in new[]
                 {
                     ("registry.deployment_history_id_seq", "deployment_history.id", "select max(id) from registry.deployment_history"),
                     ($"registry.mt_events_sequence_{PreWorkspacesUpgrade.DefaultSuffix}", "the default workspace's sequence", $"select max(seq_id) from registry.mt_events where tenant_id = '{Default}'"),
                 })
        {
            await using (var back = new NpgsqlCommand($"select setval('{sequence}', 1, false)", connection)) await back.ExecuteNonQueryAsync();
            var problems = await PreWorkspacesUpgrade.VerifyAsync(connection, CancellationToken.None);
            Assert.True(problems.Any(p => p.Contains(caught, StringComparison.Ordinal)), $"{sequence}: {string.Join("; ", problems)}");
            await using var forth = new NpgsqlCommand($"select setval('{sequence}', ({restore}))", connection);
            await forth.ExecuteNonQueryAsync();
        }
        Assert.Empty(await PreWorkspacesUpgrade.VerifyAsync(connection, CancellationToken.None));
    }

    private async Task<int> Execute(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    private async Task<(int ExitCode, string Output)> RunToExit()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { LocalProcesses.ApiAssembly(), "--urls", $"http://127.0.0.1:{LocalProcesses.FreePort()}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(LocalProcesses.ApiAssembly())!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in Environment()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The API kept running on a copy that differs:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// The key list as it was answered before workspaces, after checking what workspaces deliberately add to it: every
    /// key is a key of default (<c>workspace</c>) acting as <c>key:&lt;name&gt;</c> (<c>actor</c>), and the configured
    /// bootstrap key, the store's admin, also became its platform admin (the store had none).
    /// </summary>
    private static JsonNode? AsKeysWereListed(JsonNode? body)
    {
        var copy = body!.DeepClone();
        foreach (var key in copy["items"]!.AsArray().Select(k => k!.AsObject()))
        {
            Assert.Equal("default", key["workspace"]!.GetValue<string>());
            Assert.Equal("key:" + key["name"]!.GetValue<string>(), key["actor"]!.GetValue<string>());
            key.Remove("workspace");
            key.Remove("actor");
            var grants = key["grants"]!.AsArray();
            var platform = grants.Where(g => g!["role"]!.GetValue<string>() == "platform-admin").ToList();
            Assert.Equal(key["name"]!.GetValue<string>() == "bootstrap-admin" ? 1 : 0, platform.Count);
            foreach (var grant in platform) grants.Remove(grant);
            foreach (var grant in grants) if (grant!["workspace"] is null) grant.AsObject().Remove("workspace");
        }
        return copy;
    }

    /// <summary>
    /// The answers were recorded before these fields existed; each is an addition (an artifact's <c>verified</c>, a transition
    /// request's <c>artifactUri</c> and <c>artifactVerified</c>), named here so that any other change to a recorded answer
    /// still fails. A removed field must have its type.
    /// </summary>
    private static JsonNode? WithoutFieldsAddedSinceTheRecording(JsonNode? body)
    {
        var copy = body?.DeepClone();
        void Strip(JsonNode? node, string? property)
        {
            if (node is JsonArray array)
                foreach (var item in array) Strip(item, null);
            if (node is not JsonObject obj) return;
            if (property == "artifact" && obj["verified"] is { } verified)
            {
                Assert.Contains(verified.GetValueKind(), new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
                obj.Remove("verified");
            }
            if (obj["artifactVerified"] is { } artifactVerified)
            {
                Assert.Contains(artifactVerified.GetValueKind(), new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
                obj.Remove("artifactVerified");
            }
            if (obj["artifactUri"] is { } uri)
            {
                Assert.Equal(System.Text.Json.JsonValueKind.String, uri.GetValueKind());
                obj.Remove("artifactUri");
            }
            foreach (var (name, child) in obj.ToList()) Strip(child, name);
        }
        Strip(copy, null);
        return copy;
    }

    private static JsonNode? WithoutTrace(JsonNode? body)
    {
        var copy = body?.DeepClone();
        if (copy is JsonObject problem) problem.Remove("traceId");
        return copy;
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "EventSourcedRegistry.sln"))) directory = directory.Parent!;
        return directory.FullName;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
