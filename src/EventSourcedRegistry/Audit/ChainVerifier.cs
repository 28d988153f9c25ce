using System.Buffers;
using Marten;
using EventSourcedRegistry.Store;
using Marten.Storage;
using Npgsql;

namespace EventSourcedRegistry.Audit;

/// <summary>What a check of the hash chain found.</summary>
public enum ChainState
{
    /// <summary>Every event in the store when the check began is chained, and every link checked recomputes.</summary>
    Verified,
    /// <summary>The links checked recompute, but the chain does not reach every event the store held: not verified.</summary>
    Incomplete,
    /// <summary>The store and the chain (or a checkpoint) disagree at <see cref="ChainVerification.FirstBrokenSequence"/>.</summary>
    Broken,
}

/// <summary>The outcome of recomputing the hash chain from the raw events.</summary>
/// <param name="State">Verified only when nothing disagrees and the chain covers every event the store held at the start.</param>
/// <param name="Full">True when the chain was recomputed from its first link, false when from a signed checkpoint.</param>
/// <param name="FromSequence">Links after this sequence were recomputed; 0 for a full check, else the checkpoint's sequence.</param>
/// <param name="Events">Links recomputed and matched in this check (after <paramref name="FromSequence"/>, up to the first break).</param>
/// <param name="Head">The stored chain head (hex) that was checked against; null for an empty chain.</param>
/// <param name="HeadSequence">The sequence of that head: the check covers the links up to it.</param>
/// <param name="FirstBrokenSequence">The first sequence where the store and the chain disagree.</param>
/// <param name="FirstUnchainedSequence">When incomplete: the first event in the store after the chain's head.</param>
/// <param name="Problem">What was wrong there, in words.</param>
/// <param name="Checkpoints">Checkpoints compared with the recomputed chain.</param>
/// <param name="StoreHeadSequence">The highest event sequence in the store when the check began.</param>
public sealed record ChainVerification(
    ChainState State,
    bool Full,
    long FromSequence,
    long Events,
    string? Head,
    long HeadSequence,
    long? FirstBrokenSequence,
    long? FirstUnchainedSequence,
    string? Problem,
    int Checkpoints,
    long StoreHeadSequence)
{
    public bool Verified => State == ChainState.Verified;
}

/// <summary>
/// The first event in the store after the chain's head and how long it has waited; and, when one of the events
/// after the head cannot be hashed (so the chain projection stops at it), which one and why.
/// </summary>
public sealed record UnchainedEvent(long Sequence, TimeSpan Age, long? BlockedAt, string? CannotChain)
{
    public string Describe(long chainHead) => BlockedAt is { } blocked
        ? $"The chain ends at {chainHead} and cannot pass event {blocked}: {CannotChain} Events from {Sequence} on are not chained."
        : $"Event {Sequence} is not chained yet: the chain ends at {chainHead} and the event was stored {Age.TotalSeconds:0.#} s ago.";
}

/// <summary>
/// Recomputes one workspace's chain from its raw <c>mt_events</c> rows and compares it, link by link, with the stored
/// one. Every statement binds the workspace's tenant id, so a check of workspace A reads nothing of B, and B's tampered
/// event is B's verify's finding alone.
/// Both are streamed in sequence order side by side (two connections), so memory stays constant.
/// A sequence that is in neither (a rolled-back append's gap) is not a break: the chain is over the events
/// that were chained, and verification compares the two sets. A chain that stops short of the events the store
/// held when the check began is never verified: it is incomplete, and the first event it does not reach is named.
/// </summary>
public static class ChainVerifier
{
    /// <summary>How long a check waits for the chain to reach the events stored before it began (the async daemon trails by a moment).</summary>
    public static readonly TimeSpan DefaultCatchUp = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The check <c>/audit/verify</c> and checkpoint signing run. Incremental (<paramref name="full"/> false) starts
    /// from the newest checkpoint signed with <paramref name="signer"/>'s key (below <paramref name="external"/>'s
    /// sequence, when one is given): its signature must verify and the stored link at its sequence must still be
    /// its head; then every later link is recomputed. Edits to events before that checkpoint are not seen by an
    /// incremental check; a full one recomputes from the first link. First it waits up to
    /// <paramref name="catchUp"/> for the chain to reach the store's head, unless it is stopped at an event it cannot chain.
    /// </summary>
    public static async Task<ChainVerification> CheckAsync(IDocumentStore store, WorkspaceId workspace, CheckpointSigner signer, bool full,
        AuditCheckpoint? external = null, TimeSpan? catchUp = null, CancellationToken ct = default)
    {
        await using (var connection = store.Storage.Database.CreateConnection(ConnectionUsage.Read))
        {
            await connection.OpenAsync(ct);
            var target = await StoreHeadAsync(connection, workspace, ct);
            var deadline = DateTimeOffset.UtcNow + (catchUp ?? DefaultCatchUp);
            var head = await ChainHeadAsync(connection, workspace, ct);
            // No use waiting for a chain that is stopped at an event it cannot hash.
            if (head < target && await FirstUnchainedAsync(connection, workspace, head, ct) is not { BlockedAt: not null })
            {
                while (head < target && DateTimeOffset.UtcNow < deadline)
                {
                    await Task.Delay(Poll, ct);
                    head = await ChainHeadAsync(connection, workspace, ct);
                }
            }
        }

        List<AuditCheckpoint> checkpoints;
        // The workspace's own checkpoints (documents of its tenant).
        await using (var session = store.QuerySession(workspace.TenantId))
        {
            checkpoints = (await session.Query<AuditCheckpoint>().OrderBy(x => x.Id).ToListAsync(ct)).ToList();
        }
        // A stored checkpoint at the same sequence is compared too: both must match the recomputed chain.
        if (external is not null) checkpoints.Add(external);

        if (full) return await VerifyAsync(store, workspace, checkpoints, signer, ct: ct);

        var below = external?.Id ?? long.MaxValue;
        var start = checkpoints.Where(c => c.KeyId == signer.KeyId && c.Id < below && !ReferenceEquals(c, external)).MaxBy(c => c.Id);
        if (start is null) return await VerifyAsync(store, workspace, checkpoints, signer, ct: ct);

        ChainVerification BrokenAtStart(string problem) =>
            new(ChainState.Broken, false, start.Id, 0, null, 0, start.Id, null, problem, 1, 0);

        if (!signer.Verify(start, workspace))
            return BrokenAtStart($"The checkpoint for sequence {start.Id} carries an invalid signature for this workspace: the stored checkpoints " +
                                 "were altered, or one signed for another workspace was put here (run a full check, ?full=true, to recompute the chain without them).");
        var storedLink = await StoredLinkAsync(store, workspace, start.Id, ct);
        if (storedLink is null || Convert.ToHexStringLower(storedLink) != start.Head)
            return BrokenAtStart($"The checkpoint signed at {start.SignedAt:O} for sequence {start.Id} names head {start.Head}, but the stored chain " +
                                 (storedLink is null ? "has no link there any more: links were removed." : $"has {Convert.ToHexStringLower(storedLink)} there: the chain up to it was rewritten."));

        var result = await VerifyAsync(store, workspace, checkpoints, signer, start.Id, Convert.FromHexString(start.Head), ct);
        // The starting checkpoint was checked too: its signature, and the stored link it signed.
        return result with { Checkpoints = result.Checkpoints + 1 };
    }

    /// <summary>
    /// Compares the stored links after <paramref name="afterSequence"/> (whose hash is <paramref name="afterHash"/>)
    /// with the chain the events recompute to, and the checkpoints after it; then checks that the chain reaches the
    /// event the store's head was when the comparison began.
    /// </summary>
    public static async Task<ChainVerification> VerifyAsync(IDocumentStore store, WorkspaceId workspace, IReadOnlyList<AuditCheckpoint> checkpoints,
        CheckpointSigner? signer, long afterSequence = 0, byte[]? afterHash = null, CancellationToken ct = default)
    {
        var database = store.Storage.Database;
        await using var links = database.CreateConnection(ConnectionUsage.Read);
        await using var events = database.CreateConnection(ConnectionUsage.Read);
        await links.OpenAsync(ct);
        await events.OpenAsync(ct);

        // The store's head first: every event stored before the check began must be in the chain for it to verify.
        var storeHead = await StoreHeadAsync(links, workspace, ct);
        long headSequence = 0;
        byte[]? storedHead = null;
        await using (var command = new NpgsqlCommand($"select seq_id, hash from {AuditTrail.ChainTable} where tenant_id = $1 order by seq_id desc limit 1", links))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                headSequence = reader.GetInt64(0);
                storedHead = reader.GetFieldValue<byte[]>(1);
            }
        }
        var headHex = storedHead is null ? null : Convert.ToHexStringLower(storedHead);
        var full = afterSequence == 0;

        var pending = checkpoints.Where(c => c.Id > afterSequence).OrderBy(c => c.Id).ToList();
        var checkpointIndex = 0;
        var checkedCheckpoints = 0;
        long verified = 0;

        ChainVerification Broken(long sequence, string problem) =>
            new(ChainState.Broken, full, afterSequence, verified, headHex, headSequence, sequence, null, problem, checkedCheckpoints, storeHead);
        await using var linkCommand = new NpgsqlCommand(
            $"select seq_id, prev_seq, hash from {AuditTrail.ChainTable} where tenant_id = $3 and seq_id > $1 and seq_id <= $2 order by seq_id", links);
        linkCommand.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        linkCommand.Parameters.Add(new NpgsqlParameter { Value = headSequence });
        linkCommand.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        await using var eventCommand = new NpgsqlCommand(
            $"select {ChainLink.Columns} from {AuditTrail.EventsTable} e where e.tenant_id = $3 and e.seq_id > $1 and e.seq_id <= $2 order by e.seq_id", events);
        eventCommand.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        eventCommand.Parameters.Add(new NpgsqlParameter { Value = headSequence });
        eventCommand.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });

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
                if (signer is not null && checkpoint.KeyId == signer.KeyId && !signer.Verify(checkpoint, workspace))
                    return Broken(sequence, $"The checkpoint for sequence {sequence} carries an invalid signature for this workspace.");
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

        await linkReader.DisposeAsync();
        await eventReader.DisposeAsync();
        if (headSequence < storeHead && await FirstUnchainedAsync(links, workspace, headSequence, ct) is { } unchained && unchained.Sequence <= storeHead)
            return new ChainVerification(ChainState.Incomplete, full, afterSequence, verified, headHex, headSequence, null, unchained.Sequence,
                unchained.Describe(headSequence), checkedCheckpoints, storeHead);

        return new ChainVerification(ChainState.Verified, full, afterSequence, verified, headHex, headSequence, null, null, null, checkedCheckpoints, storeHead);
    }

    /// <summary>The workspace's highest event sequence (0 when it has none).</summary>
    public static async Task<long> StoreHeadAsync(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {AuditTrail.EventsTable} where tenant_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The sequence of the workspace chain's last link (0 when nothing is chained).</summary>
    public static async Task<long> ChainHeadAsync(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {AuditTrail.ChainTable} where tenant_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Events after the chain's head searched for the one that stops it (the daemon hands over a few hundred at a time).</summary>
    public const int BlockSearch = 1000;

    /// <summary>
    /// The first event after <paramref name="chainHead"/> and its age by the database's clock; and the first of the
    /// next <see cref="BlockSearch"/> events whose canonical record cannot be written, with the reason: where the
    /// chain projection stops.
    /// </summary>
    public static async Task<UnchainedEvent?> FirstUnchainedAsync(NpgsqlConnection connection, WorkspaceId workspace, long chainHead, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            // Only finite stamps have an age (Marten once stamped its gap-filling events -infinity: see EventGaps).
            $"select {ChainLink.Columns}, case when isfinite(e.timestamp) then now() - e.timestamp end from {AuditTrail.EventsTable} e " +
            $"where e.tenant_id = $2 and e.seq_id > $1 order by e.seq_id limit {BlockSearch}",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = chainHead });
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        UnchainedEvent? first = null;
        var dated = false;
        while (await reader.ReadAsync(ct))
        {
            var stored = ChainLink.Read(reader);
            if (first is null)
            {
                first = new UnchainedEvent(stored.Sequence, TimeSpan.Zero, null, null);
                dated = false;
            }
            if (!dated && !reader.IsDBNull(11))
            {
                // The age of the waiting events is the age of the first one that has a time.
                var age = reader.GetFieldValue<TimeSpan>(11);
                first = first with { Age = age < TimeSpan.Zero ? TimeSpan.Zero : age };
                dated = true;
            }
            if (ChainLink.WhyNotChainable(stored) is { } why) return first with { BlockedAt = stored.Sequence, CannotChain = why };
        }
        return first;
    }

    private static async Task<byte[]?> StoredLinkAsync(IDocumentStore store, WorkspaceId workspace, long sequence, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection(ConnectionUsage.Read);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"select hash from {AuditTrail.ChainTable} where tenant_id = $2 and seq_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return await command.ExecuteScalarAsync(ct) as byte[];
    }
}
