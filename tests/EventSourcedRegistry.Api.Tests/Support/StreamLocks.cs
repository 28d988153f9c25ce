using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// Holds a workspace's stream rows locked (<c>select … for update</c>, as every append and every batch of a rebuild takes
/// them) until disposed: a rebuild started meanwhile reads its events and then waits at its first batch, so a test sees it
/// running for as long as it needs to, without a large dataset or a race against the clock.
/// </summary>
public sealed class StreamLocks : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private StreamLocks(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    /// <param name="stream">Only this stream's row (a model's, as its commands lock it), when given.</param>
    public static async Task<StreamLocks> Hold(string connectionString, WorkspaceId workspace, Guid? stream = null)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            $"select id from {RegistryStore.Schema}.mt_streams where tenant_id = $1 and ($2::uuid is null or id = $2) for update", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)stream ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        await using (var reader = await command.ExecuteReaderAsync())
        {
            var rows = 0;
            while (await reader.ReadAsync()) rows++;
            Assert.True(rows > 0, $"{workspace} has no stream to lock");
        }
        return new StreamLocks(connection, transaction);
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync();
        await _connection.DisposeAsync();
    }
}
