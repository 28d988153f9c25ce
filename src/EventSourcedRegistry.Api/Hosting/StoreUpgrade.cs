using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Hosting;

/// <summary>
/// The host's side of <see cref="PreWorkspacesUpgrade"/>: run before the host is built (so before Marten applies its
/// schema), logged with its figures, and a refusal to serve when the copy is not exact.
/// </summary>
public static class StoreUpgrade
{
    /// <summary>
    /// The tables the host creates at start rather than Marten, created before the copy in their current shape: the API
    /// keys, and the model list's tag table (kept from the copied model views by its triggers). Artifact quota
    /// reservations are not carried over: they are held only while an upload streams.
    /// </summary>
    public static readonly IReadOnlyList<string> HostTables =
        [Access.ApiKeys.CreateTableSql, EventSourcedRegistry.Models.ModelTagIndex.EnsureSql(RegistryStore.Schema)];

    /// <summary>False when the store was written before workspaces and could not be upgraded: the API must not serve.</summary>
    public static async Task<bool> UpgradeIfWrittenBeforeWorkspacesAsync(this RegistryDatabase database, ILogger logger, CancellationToken ct = default)
    {
        PreWorkspacesUpgrade.Outcome outcome;
        try
        {
            outcome = await PreWorkspacesUpgrade.RunAsync(database.PooledConnectionString, options =>
            {
                options.Connection(database.PooledConnectionString);
                options.ConfigureRegistry();
            }, HostTables, logger, ct);
        }
        catch (Exception fault) when (fault is not OperationCanceledException)
        {
            outcome = new PreWorkspacesUpgrade.Outcome(PreWorkspacesUpgrade.State.Failed,
                $"The upgrade of the store written before workspaces failed: {fault.Message}. Schema '{PreWorkspacesUpgrade.SourceSchema}' is " +
                "untouched; the next start makes the copy again.");
            logger.LogCritical(fault, "Not serving: {Summary}", outcome.Summary);
            return false;
        }

        switch (outcome.State)
        {
            case PreWorkspacesUpgrade.State.Upgraded:
                logger.LogWarning("{Summary}", outcome.Summary);
                return true;
            case PreWorkspacesUpgrade.State.Failed:
                logger.LogCritical("Not serving: {Summary}", outcome.Summary);
                return false;
            default:
                return true;
        }
    }

    /// <summary>
    /// <c>drop-pre-workspaces</c>: drops the store kept from before workspaces once the upgrade finished (there is no
    /// going back after this; before it, renaming the schemas back is the way back). Exit code 0 when dropped.
    /// </summary>
    public static async Task<int> DropPreWorkspacesAsync(this RegistryDatabase database, ILogger logger, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(database.PooledConnectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var check = new NpgsqlCommand("", connection))
        {
            // Two steps: a statement naming the marker table would not plan where it does not exist.
            check.CommandText = $"select to_regnamespace('{PreWorkspacesUpgrade.SourceSchema}') is not null and to_regclass('{PreWorkspacesUpgrade.MarkerTable}') is not null";
            if (await check.ExecuteScalarAsync(ct) is not true)
            {
                logger.LogError("There is no store from before workspaces to drop, or its upgrade is not recorded");
                return 1;
            }
            check.CommandText = $"select exists (select 1 from {PreWorkspacesUpgrade.MarkerTable} where finished_at is not null)";
            if (await check.ExecuteScalarAsync(ct) is not true)
            {
                logger.LogError("The upgrade of the store from before workspaces did not finish: its copy is kept");
                return 1;
            }
        }
        await using (var drop = new NpgsqlCommand($"drop schema {PreWorkspacesUpgrade.SourceSchema} cascade", connection))
            await drop.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogWarning("Dropped schema {Schema}, the store written before workspaces", PreWorkspacesUpgrade.SourceSchema);
        return 0;
    }
}
