using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Api.Models.Listing;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20's 1,000-workspace benchmark: every statement on the event tables names its workspace by a bound value, and
/// PostgreSQL's plan cache would, from a prepared statement's sixth run on a connection, build a generic plan of it over
/// every workspace's partition (≈ 1 s per statement and connection at 1,000 workspaces: the as-of model read cost
/// PostgreSQL 220 ms per request in the benchmark, a register's p99 was 764 ms). Guards that every connection the registry
/// opens plans each run for its one partition instead (<see cref="RegistryDatabase.Tune"/>).
/// </summary>
public sealed class when_statements_name_their_workspace_by_a_bound_value(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_prepared_statement_on_the_events_is_never_planned_for_every_workspace()
    {
        var data = Host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var connection = await data.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            $"select count(*) from {RegistryStore.Schema}.mt_events where tenant_id = $1 and stream_id = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Default.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = Guid.NewGuid() });
        await command.PrepareAsync();
        // Past the five custom plans after which PostgreSQL's default (auto) builds the generic one.
        for (var i = 0; i < 8; i++) await command.ExecuteScalarAsync();

        await using var plans = new NpgsqlCommand(
            "select generic_plans, custom_plans from pg_prepared_statements where statement like '%mt_events where tenant_id = $1 and stream_id = $2'",
            connection);
        await using var reader = await plans.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(0L, reader.GetInt64(0));
        Assert.Equal(8L, reader.GetInt64(1));
    }

    [Fact]
    public async Task every_connection_the_registry_opens_plans_for_its_own_partition()
    {
        const string mode = "select current_setting('plan_cache_mode')";
        await using (var connection = await Host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        await using (var command = new NpgsqlCommand(mode, connection))
            Assert.Equal(RegistryDatabase.CustomPlans, await command.ExecuteScalarAsync());
        await using (var connection = await Host.Services.GetRequiredService<TagListing>().Data.OpenConnectionAsync())
        await using (var command = new NpgsqlCommand(mode, connection))
            Assert.Equal(RegistryDatabase.CustomPlans, await command.ExecuteScalarAsync());
        // Marten's own sessions: the append function, stream fetches, the inline projections' statements.
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        Assert.Equal([RegistryDatabase.CustomPlans], await session.QueryAsync<string>(mode));
    }
}
