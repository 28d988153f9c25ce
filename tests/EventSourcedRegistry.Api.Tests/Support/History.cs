using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Reads of the store's own bookkeeping that time-travel tests need.</summary>
public static class HistoryProbe
{
    /// <summary>The global sequence of the newest event in the store.</summary>
    public static async Task<long> LastSequence(this AppFixture app)
    {
        await using var data = NpgsqlDataSource.Create(app.ConnectionString);
        await using var command = data.CreateCommand($"select coalesce(max(seq_id), 0) from {RegistryStore.Schema}.mt_events");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The timestamp the store gave the event with that sequence.</summary>
    public static async Task<DateTimeOffset> TimestampOf(this AppFixture app, long sequence)
    {
        await using var data = NpgsqlDataSource.Create(app.ConnectionString);
        await using var command = data.CreateCommand($"select timestamp from {RegistryStore.Schema}.mt_events where seq_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no event has sequence {sequence}");
        return reader.GetFieldValue<DateTimeOffset>(0);
    }

    /// <summary>Waits (generously: the machine is shared) until the daemon's high-water mark has reached the newest event.</summary>
    public static async Task WaitForHighWaterMark(this AppFixture app, TimeSpan? timeout = null)
    {
        var target = await app.LastSequence();
        await using var data = NpgsqlDataSource.Create(app.ConnectionString);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        long mark;
        while ((mark = await StorePosition.HighWaterMark(data, RegistryStore.Schema, WorkspaceId.Default, CancellationToken.None)) < target)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The high-water mark stayed at {mark}; the newest event is {target}.");
            await Task.Delay(50);
        }
    }
}
