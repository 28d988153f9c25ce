using EventSourcedRegistry.Api.Models.Listing;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20's 1,000-workspace benchmark: a page of <c>GET /models</c> reads its own workspace's names in order and stops
/// after the page. Marten's unique name index puts the workspace last, so without an index that leads with it a page
/// sorted every model of the workspace or walked every workspace's names (a prefix did, in the benchmark's EXPLAIN).
/// Guards <see cref="ModelTagIndex.TenantNameIndex"/> and that the route's query uses it.
/// </summary>
public sealed class when_listing_one_workspace_among_many(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_page_walks_the_workspaces_names_in_order_without_sorting_them_or_reading_another_workspace()
    {
        var team = await App.NewWorkspace();
        // Two workspaces holding the same names, so a walk of the shared name index would meet the other's at every step.
        foreach (var workspace in new[] { WorkspaceId.Default, team })
        {
            await using var session = Store.LightweightSession(workspace.TenantId);
            for (var i = 0; i < 1500; i++)
            {
                var name = i % 10 == 0 ? $"team-{i:D5}" : $"m-{i:D5}";
                session.Store(new ModelView
                {
                    Id = Guid.NewGuid(), Name = name, NormalizedName = InputRules.NormalizeName(name),
                    VersionsByStage = new Dictionary<string, VersionSet>(StringComparer.Ordinal) { [i % 2 == 0 ? "Production" : "Staging"] = [1] },
                });
            }
            await session.SaveChangesAsync();
        }
        var data = Host.Services.GetRequiredService<NpgsqlDataSource>();
        await using (var analyze = data.CreateCommand($"analyze {RegistryStore.Schema}.mt_doc_modelview"))
            await analyze.ExecuteNonQueryAsync();

        (string Name, (string Sql, object[] Args) Query)[] pages =
        [
            ("first page", ListModelsEndpoint.PageQuery(team.TenantId, [], null, null, false, null, ListModelsEndpoint.DefaultLimit)),
            ("after a cursor", ListModelsEndpoint.PageQuery(team.TenantId, [], null, null, false, "m-00700", ListModelsEndpoint.DefaultLimit)),
            ("a stage", ListModelsEndpoint.PageQuery(team.TenantId, [], null, "Production", false, null, ListModelsEndpoint.DefaultLimit)),
        ];
        await using var connection = await data.OpenConnectionAsync();
        foreach (var (name, (sql, args)) in pages)
        {
            var plan = await Explain(connection, sql, args);
            Assert.True(plan.Contains(ModelTagIndex.TenantNameIndex) && !plan.Contains("Sort") && !plan.Contains(RegistryStore.ModelNameUniqueIndex),
                $"{name}:\n{plan}");
        }
        // A prefix reads the workspace's own names in its range (and may sort those few), never the shared name index,
        // whose range holds every workspace's names with that prefix.
        var (prefixSql, prefixArgs) = ListModelsEndpoint.PageQuery(team.TenantId, [], "team-", null, false, null, ListModelsEndpoint.DefaultLimit);
        var prefixPlan = await Explain(connection, prefixSql, prefixArgs);
        Assert.True((prefixPlan.Contains(ModelTagIndex.TenantNameIndex) || prefixPlan.Contains(ModelTagIndex.NamePatternIndex))
                    && !prefixPlan.Contains(RegistryStore.ModelNameUniqueIndex), prefixPlan);
    }

    /// <summary>The plan of a Marten raw query: its <c>?</c> placeholders numbered for Npgsql (the page SQL has no other <c>?</c>).</summary>
    private static async Task<string> Explain(NpgsqlConnection connection, string sql, object[] args)
    {
        var position = 0;
        var numbered = System.Text.RegularExpressions.Regex.Replace(sql, @"\?", _ => "$" + ++position);
        await using var explain = new NpgsqlCommand("explain " + numbered, connection);
        foreach (var arg in args) explain.Parameters.Add(new NpgsqlParameter { Value = arg });
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
        return string.Join("\n", plan);
    }
}
