using System.Buffers;
using Marten;
using Marten.Storage;
using Npgsql;

namespace EventSourcedRegistry.Audit;

/// <summary>The outcome of recomputing the hash chain from the raw events.</summary>
/// <param name="Events">Events whose link was recomputed and matched (up to the first break).</param>
/// <param name="Head">The stored chain head (hex) that was checked against; null for an empty chain.</param>
/// <param name="HeadSequence">The sequence of that head; events after it are not chained yet and not checked.</param>
/// <param name="FirstBrokenSequence">The first sequence where the store and the chain disagree.</param>
/// <param name="Problem">What was wrong there, in words.</param>
/// <param name="Checkpoints">Checkpoints compared with the recomputed chain.</param>
public sealed record ChainVerification(
    bool Verified,
    long Events,
    string? Head,
    long HeadSequence,
    long? FirstBrokenSequence,
    string? Problem,
    int Checkpoints);

/// <summary>
/// Recomputes the chain from the raw <c>mt_events</c> rows and compares it, link by link, with the stored one.
/// Both are streamed in sequence order side by side (two connections), so memory stays constant.
/// A sequence that is in neither (a rolled-back append's gap) is not a break: the chain is over the events
/// that were chained, and verification compares the two sets.
/// </summary>
public static class ChainVerifier
{
    public static async Task<ChainVerification> VerifyAsync(IDocumentStore store, IReadOnlyList<AuditCheckpoint> checkpoints,
        CheckpointSigner? signer, long afterSequence = 0, byte[]? afterHash = null, CancellationToken ct = default)
    {
        var database = store.Storage.Database;
        await using var links = database.CreateConnection(ConnectionUsage.Read);
        await using var events = database.CreateConnection(ConnectionUsage.Read);
        await links.OpenAsync(ct);
        await events.OpenAsync(ct);

        long headSequence = 0;
        byte[]? storedHead = null;
        await using (var command = new NpgsqlCommand($"select seq_id, hash from {AuditTrail.ChainTable} order by seq_id desc limit 1", links))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
            {
                headSequence = reader.GetInt64(0);
                storedHead = reader.GetFieldValue<byte[]>(1);
            }
        }
        var headHex = storedHead is null ? null : Convert.ToHexStringLower(storedHead);

        var pending = checkpoints.Where(c => c.Id > afterSequence).OrderBy(c => c.Id).ToList();
        var checkpointIndex = 0;
        var checkedCheckpoints = 0;
        long verified = 0;

        ChainVerification Broken(long sequence, string problem) =>
            new(false, verified, headHex, headSequence, sequence, problem, checkedCheckpoints);

        await using var linkCommand = new NpgsqlCommand(
            $"select seq_id, prev_seq, hash from {AuditTrail.ChainTable} where seq_id > $1 and seq_id <= $2 order by seq_id", links);
        linkCommand.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        linkCommand.Parameters.Add(new NpgsqlParameter { Value = headSequence });
        await using var eventCommand = new NpgsqlCommand(
            $"select {ChainLink.Columns} from {AuditTrail.EventsTable} e where e.seq_id > $1 and e.seq_id <= $2 order by e.seq_id", events);
        eventCommand.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        eventCommand.Parameters.Add(new NpgsqlParameter { Value = headSequence });

        await using var linkReader = await linkCommand.ExecuteReaderAsync(ct);
        await using var eventReader = await eventCommand.ExecuteReaderAsync(ct);

        var previousSequence = afterSequence;
        var previous = afterHash ?? ChainLink.Genesis;
        var scratch = new ArrayBufferWriter<byte>(4096);
        var hasLink = await linkReader.ReadAsync(ct);
        var hasEvent = await eventReader.ReadAsync(ct);

        while (hasLink || hasEvent)
        {
            var linkSequence = hasLink ? linkReader.GetInt64(0) : long.MaxValue;
            var eventSequence = hasEvent ? eventReader.GetInt64(0) : long.MaxValue;
            var sequence = Math.Min(linkSequence, eventSequence);

            if (checkpointIndex < pending.Count && pending[checkpointIndex].Id < sequence)
                return Broken(pending[checkpointIndex].Id,
                    $"A checkpoint signed the chain at sequence {pending[checkpointIndex].Id}, but the chain has no link there any more.");

            if (eventSequence < linkSequence)
                return Broken(eventSequence,
                    $"Event {eventSequence} is in the store but not in the chain: it was inserted after its place in the chain had passed " +
                    "(or committed after the projection had skipped its sequence).");
            if (linkSequence < eventSequence)
                return Broken(linkSequence, $"Event {linkSequence} was chained but is missing from the store: it was deleted.");

            if (linkReader.GetInt64(1) != previousSequence)
                return Broken(sequence, $"The link at {sequence} does not extend the link at {previousSequence}.");

            var recomputed = ChainLink.Next(previous, ChainLink.Read(eventReader), scratch);
            if (!recomputed.AsSpan().SequenceEqual(linkReader.GetFieldValue<byte[]>(2)))
                return Broken(sequence, $"Event {sequence} differs from what was chained: its data, metadata or stored link changed.");

            while (checkpointIndex < pending.Count && pending[checkpointIndex].Id == sequence)
            {
                var checkpoint = pending[checkpointIndex++];
                checkedCheckpoints++;
                if (checkpoint.Head != Convert.ToHexStringLower(recomputed))
                    return Broken(sequence,
                        $"The checkpoint {(checkpoint.SignedAt == DateTimeOffset.MinValue ? "given" : $"signed at {checkpoint.SignedAt:O}")} " +
                        $"for sequence {sequence} names head {checkpoint.Head}, but the events recompute to another: history up to it was rewritten.");
                if (signer is not null && checkpoint.KeyId == signer.KeyId && !signer.Verify(checkpoint))
                    return Broken(sequence, $"The checkpoint for sequence {sequence} carries an invalid signature.");
            }

            verified++;
            previous = recomputed;
            previousSequence = sequence;
            hasLink = await linkReader.ReadAsync(ct);
            hasEvent = await eventReader.ReadAsync(ct);
        }

        if (checkpointIndex < pending.Count)
            return Broken(pending[checkpointIndex].Id,
                $"A checkpoint signed the chain at sequence {pending[checkpointIndex].Id}, but the chain now ends at {headSequence}: links were removed (or the chain has not reached it yet).");

        return new ChainVerification(true, verified, headHex, headSequence, null, null, checkedCheckpoints);
    }
}
