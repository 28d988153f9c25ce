using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Npgsql;

namespace EventSourcedRegistry.Audit;

/// <summary>One event as stored in <c>mt_events</c>: exactly the columns the hash chain covers.</summary>
public sealed record StoredEvent(
    long Sequence,
    Guid Id,
    Guid StreamId,
    long Version,
    string Type,
    string DataJson,
    DateTime Timestamp,
    string? Actor,
    string? CorrelationId,
    string? CausationId,
    string? HeadersJson);

/// <summary>
/// The hash chain's definition, shared by the projection that writes it and the verifier that recomputes it.
/// <code>
/// hash_0 = 32 zero bytes                           (each workspace's chain starts here)
/// hash_n = SHA-256(hash_{n-1} ‖ JCS(record_n))   over one workspace's events in its sequence order
/// record_n = {"data": &lt;event data&gt;, "id": "&lt;event id&gt;",
///             "metadata": {"actor": …, "causationId": …, "correlationId": …, "headers": &lt;headers&gt; | null},
///             "sequence": n, "streamId": "&lt;stream id&gt;", "timestamp": "yyyy-MM-ddTHH:mm:ss.ffffffZ",
///             "type": "&lt;Marten event type alias&gt;", "version": &lt;stream version&gt;}
/// </code>
/// JCS is RFC 8785 (<see cref="CanonicalJson"/>); ids are lower-case hyphenated UUIDs; the timestamp is the
/// store's, in UTC with microseconds. <c>hash_{n-1}</c> is the raw 32 bytes of the previous link. The record does not
/// name the workspace (the chain is the workspace's; a store written before workspaces keeps its links byte for byte as
/// the <c>default</c> workspace's).
/// </summary>
public static class ChainLink
{
    public const int HashLength = 32;
    public static readonly byte[] Genesis = new byte[HashLength];

    /// <summary>The select list for <see cref="Read"/>, over <c>mt_events</c> aliased as <c>e</c>.</summary>
    public const string Columns =
        "e.seq_id, e.id, e.stream_id, e.version, e.type, e.data::text, e.timestamp, e.user_name, e.correlation_id, e.causation_id, e.headers::text";

    public static StoredEvent Read(DbDataReader reader, int offset = 0) => new(
        reader.GetInt64(offset),
        reader.GetGuid(offset + 1),
        reader.GetGuid(offset + 2),
        reader.GetInt64(offset + 3),
        reader.GetString(offset + 4),
        reader.GetString(offset + 5),
        reader.GetFieldValue<DateTime>(offset + 6),
        reader.IsDBNull(offset + 7) ? null : reader.GetString(offset + 7),
        reader.IsDBNull(offset + 8) ? null : reader.GetString(offset + 8),
        reader.IsDBNull(offset + 9) ? null : reader.GetString(offset + 9),
        reader.IsDBNull(offset + 10) ? null : reader.GetString(offset + 10));

    public static string FormatTimestamp(DateTime utc) =>
        DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The canonical record of one event: the bytes a link hashes after its predecessor's hash.</summary>
    public static void WriteRecord(StoredEvent e, ArrayBufferWriter<byte> output)
    {
        // Members are written in JCS order (sorted by name), so the result is already canonical.
        Ascii(output, "{\"data\":");
        WriteJson(e.DataJson, output);
        Ascii(output, ",\"id\":\"" + e.Id.ToString("D") + "\"");
        Ascii(output, ",\"metadata\":{\"actor\":");
        StringOrNull(e.Actor, output);
        Ascii(output, ",\"causationId\":");
        StringOrNull(e.CausationId, output);
        Ascii(output, ",\"correlationId\":");
        StringOrNull(e.CorrelationId, output);
        Ascii(output, ",\"headers\":");
        if (e.HeadersJson is null) Ascii(output, "null");
        else WriteJson(e.HeadersJson, output);
        Ascii(output, "},\"sequence\":" + e.Sequence.ToString(CultureInfo.InvariantCulture));
        Ascii(output, ",\"streamId\":\"" + e.StreamId.ToString("D") + "\"");
        Ascii(output, ",\"timestamp\":\"" + FormatTimestamp(e.Timestamp) + "\"");
        Ascii(output, ",\"type\":");
        CanonicalJson.WriteString(e.Type, output);
        Ascii(output, ",\"version\":" + e.Version.ToString(CultureInfo.InvariantCulture) + "}");
    }

    public static byte[] Record(StoredEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(e.DataJson.Length + 512);
        WriteRecord(e, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Why the event's canonical record cannot be written (its stored JSON holds something the canonical form has no
    /// form for, e.g. nesting past 256 levels), or null when it can. The chain cannot pass such an event.
    /// </summary>
    public static string? WhyNotChainable(StoredEvent e)
    {
        try
        {
            WriteRecord(e, new ArrayBufferWriter<byte>(e.DataJson.Length + 512));
            return null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException)
        {
            return ex.Message;
        }
    }

    /// <summary>hash_n from hash_{n-1} and the event; <paramref name="scratch"/> is reused between calls.</summary>
    public static byte[] Next(ReadOnlySpan<byte> previous, StoredEvent e, ArrayBufferWriter<byte>? scratch = null)
    {
        scratch ??= new ArrayBufferWriter<byte>();
        scratch.ResetWrittenCount();
        WriteRecord(e, scratch);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(previous);
        sha.AppendData(scratch.WrittenSpan);
        return sha.GetHashAndReset();
    }

    private static void WriteJson(string json, IBufferWriter<byte> output)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = CanonicalInput.StoredMaxDepth });
        CanonicalJson.Write(document.RootElement, output);
    }

    private static void StringOrNull(string? value, IBufferWriter<byte> output)
    {
        if (value is null) Ascii(output, "null");
        else CanonicalJson.WriteString(value, output);
    }

    private static void Ascii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++) span[i] = (byte)text[i];
        output.Advance(text.Length);
    }
}

/// <summary>
/// Extends a workspace's hash chain by the events the async daemon hands over, strictly in the workspace's sequence
/// order (the daemon delivers one tenant's events per batch, in order and only up to its high-water mark). The link
/// input is read back from the workspace's <c>mt_events</c> rows as stored, the same bytes the verifier will read later.
/// </summary>
/// <remarks>
/// Sequences at or below the chain's head are never linked: a rebuild is a no-op for links that exist,
/// and a sequence the daemon skipped (a rolled-back append leaves a permanent gap) is simply not in the chain.
/// </remarks>
public sealed class HashChainProjection : IProjection
{
    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        if (events.Count == 0) return;
        var tenant = AuditTrail.BatchTenant(operations, events);

        long headSequence = 0;
        var head = ChainLink.Genesis;
        await using (var command = HeadCommand(tenant))
        await using (var reader = await operations.ExecuteReaderAsync(command, cancellation))
        {
            if (await reader.ReadAsync(cancellation))
            {
                headSequence = reader.GetInt64(0);
                head = reader.GetFieldValue<byte[]>(1);
            }
        }

        var sequences = events.Select(e => e.Sequence).Where(s => s > headSequence).Distinct().Order().ToArray();
        if (sequences.Length == 0) return;

        var linked = new List<long>(sequences.Length);
        var previous = new List<long>(sequences.Length);
        var hashes = new List<byte[]>(sequences.Length);
        var scratch = new ArrayBufferWriter<byte>(4096);
        await using (var command = new NpgsqlCommand(
                         $"select {ChainLink.Columns} from {AuditTrail.EventsTable} e where e.tenant_id = $1 and e.seq_id = any($2) order by e.seq_id"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = tenant });
            command.Parameters.Add(new NpgsqlParameter { Value = sequences });
            await using var reader = await operations.ExecuteReaderAsync(command, cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                var stored = ChainLink.Read(reader);
                byte[] hash;
                try
                {
                    hash = ChainLink.Next(head, stored, scratch);
                }
                catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
                {
                    // The chain cannot pass an event it cannot hash: say which and why (verify and /health/audit report it too).
                    throw new InvalidOperationException($"The hash chain stops before event {stored.Sequence}: {ex.Message}", ex);
                }
                linked.Add(stored.Sequence);
                previous.Add(headSequence);
                hashes.Add(hash);
                headSequence = stored.Sequence;
                head = hash;
            }
        }

        if (linked.Count == 0) return;
        operations.QueueSqlCommand(
            $"insert into {AuditTrail.ChainTable} (tenant_id, seq_id, prev_seq, hash) select ?::text, u.* from unnest(?::bigint[], ?::bigint[], ?::bytea[]) as u on conflict (tenant_id, seq_id) do nothing",
            tenant, linked.ToArray(), previous.ToArray(), hashes.ToArray());
    }

    private static NpgsqlCommand HeadCommand(string tenant)
    {
        var command = new NpgsqlCommand($"select seq_id, hash from {AuditTrail.ChainTable} where tenant_id = $1 order by seq_id desc limit 1");
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        return command;
    }
}
