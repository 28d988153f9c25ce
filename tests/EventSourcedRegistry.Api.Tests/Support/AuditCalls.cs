using System.Text.Json.Nodes;
using Alba;
using Marten;
using Marten.Events;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Helpers for the audit trail: waiting for the async projections, raw SQL as a database administrator would run it.</summary>
public static class AuditCalls
{
    /// <summary>Generous: the machine is shared and the daemon polls; the wait returns as soon as every projection caught up.</summary>
    public static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Waits until the async daemon has projected every event appended so far.</summary>
    public static Task WaitForAuditTrail(this IDocumentStore store) => store.WaitForNonStaleProjectionDataAsync(CatchUpTimeout);

    public static Task<int> Sql(this AppFixture app, string sql, params object[] parameters) => app.SqlOn(app.ConnectionString, sql, parameters);

    /// <summary>As <see cref="Sql"/>, on another of the fixture's databases (a side host's).</summary>
    public static async Task<int> SqlOn(this AppFixture app, string connectionString, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters) command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return await command.ExecuteNonQueryAsync();
    }

    public static Task<List<T>> SqlList<T>(this AppFixture app, string sql, params object[] parameters) =>
        app.SqlListOn<T>(app.ConnectionString, sql, parameters);

    /// <summary>As <see cref="SqlList{T}"/>, on another of the fixture's databases (a side host's).</summary>
    public static async Task<List<T>> SqlListOn<T>(this AppFixture app, string connectionString, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters) command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        var values = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) values.Add(reader.GetFieldValue<T>(0));
        return values;
    }

    /// <summary>All global sequence numbers in the store, ascending.</summary>
    public static Task<List<long>> Sequences(this AppFixture app) => app.SqlList<long>("select seq_id from registry.mt_events order by seq_id");

    public static async Task<JsonNode> Audit(this IAlbaHost host, string query = "")
    {
        var response = await host.Get("/api/v1/audit" + query);
        Assert.True(response.Status == 200, $"GET /api/v1/audit{query}: {response.Status} {response.Body}");
        return response.Body!;
    }

    public static async Task<JsonNode> Verify(this IAlbaHost host)
    {
        var response = await host.Get("/api/v1/audit/verify");
        Assert.True(response.Status == 200, $"verify: {response.Status} {response.Body}");
        return response.Body!;
    }

    public static List<JsonNode> Items(this JsonNode page) => page["items"]!.AsArray().Select(x => x!).ToList();
}
