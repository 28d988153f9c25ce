using EventSourcedRegistry.Access;
using EventSourcedRegistry.Approvals;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Npgsql;

namespace EventSourcedRegistry.Audit;

/// <summary>One row of the audit log: one event, who did it, when, why, and what it did in one line.</summary>
public sealed record AuditEntry(
    long Sequence,
    DateTimeOffset Timestamp,
    Guid ModelId,
    string? ModelName,
    int? Version,
    string EventType,
    string? Actor,
    string? Reason,
    string? CorrelationId,
    string? CausationId,
    string Summary);

/// <summary>
/// Writes one audit-log row per event, in batches as the async daemon hands them over. The model's name at
/// the time of the event is carried forward from its registration and renames, so the log reads as it was.
/// Inserts ignore rows that exist, so a replay is harmless. Every row carries the batch's workspace: the daemon hands
/// over one tenant's events per batch (<c>operations.TenantId</c>), and a batch that mixed two would be refused.
/// </summary>
public sealed class AuditLogProjection : IProjection
{
    public const string ReasonHeader = "reason";

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        if (events.Count == 0) return;
        var tenant = AuditTrail.BatchTenant(operations, events);

        var names = await NamesBefore(operations, tenant, events.Select(e => e.StreamId).Distinct().ToArray(), cancellation);

        var count = events.Count;
        var sequences = new long[count];
        var timestamps = new DateTimeOffset[count];
        var modelIds = new Guid[count];
        var modelNames = new string?[count];
        var versions = new int?[count];
        var types = new string[count];
        var actors = new string?[count];
        var reasons = new string?[count];
        var correlations = new string?[count];
        var causations = new string?[count];
        var summaries = new string[count];
        var nameKeys = new List<string>();
        var nameModels = new List<Guid>();
        var nameSequences = new List<long>();

        for (var i = 0; i < count; i++)
        {
            var e = events[i];
            foreach (var name in AuditSummary.NamesIn(e.Data))
            {
                nameKeys.Add(InputRules.NormalizeName(name));
                nameModels.Add(e.StreamId);
                nameSequences.Add(e.Sequence);
            }
            if (AuditSummary.NameAfter(e.Data) is { } current) names[e.StreamId] = current;

            sequences[i] = e.Sequence;
            timestamps[i] = e.Timestamp.ToUniversalTime();
            modelIds[i] = e.StreamId;
            modelNames[i] = names.GetValueOrDefault(e.StreamId);
            versions[i] = AuditSummary.VersionOf(e.Data);
            types[i] = e.EventType.Name;
            actors[i] = e.UserName;
            reasons[i] = AuditSummary.ReasonOf(e.Data) ?? HeaderReason(e);
            correlations[i] = e.CorrelationId;
            causations[i] = e.CausationId;
            summaries[i] = AuditSummary.Describe(e.Data);
        }

        operations.QueueSqlCommand(
            $"""
             insert into {AuditTrail.AuditLogTable}
               (tenant_id, seq_id, timestamp, model_id, model_name, version, event_type, actor, reason, correlation_id, causation_id, summary)
             select ?::text, u.* from unnest(?::bigint[], ?::timestamptz[], ?::uuid[], ?::text[], ?::integer[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) as u
             on conflict (tenant_id, seq_id) do nothing
             """,
            tenant, sequences, timestamps, modelIds, modelNames, versions, types, actors, reasons, correlations, causations, summaries);

        if (nameKeys.Count > 0)
        {
            operations.QueueSqlCommand(
                $"insert into {AuditTrail.ModelNamesTable} (tenant_id, name_key, model_id, seq_id) select ?::text, u.* from unnest(?::text[], ?::uuid[], ?::bigint[]) as u on conflict do nothing",
                tenant, nameKeys.ToArray(), nameModels.ToArray(), nameSequences.ToArray());
        }
    }

    private static string? HeaderReason(IEvent e) =>
        e.Headers is { } headers && headers.TryGetValue(ReasonHeader, out var reason) ? reason?.ToString() : null;

    /// <summary>Each model's name as of the rows already written (earlier batches are committed before this one is built).</summary>
    private static async Task<Dictionary<Guid, string?>> NamesBefore(IDocumentOperations operations, string tenant, Guid[] modelIds, CancellationToken ct)
    {
        var names = new Dictionary<Guid, string?>(modelIds.Length);
        await using var command = new NpgsqlCommand(
            $"""
             select i.id, (select l.model_name from {AuditTrail.AuditLogTable} l
                           where l.tenant_id = $2 and l.model_id = i.id and l.model_name is not null order by l.seq_id desc limit 1)
             from unnest($1::uuid[]) as i(id)
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = modelIds });
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        await using var reader = await operations.ExecuteReaderAsync(command, ct);
        while (await reader.ReadAsync(ct))
            names[reader.GetGuid(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        return names;
    }
}

/// <summary>What an event means in one line, which version it concerns, and the names it gives its model.</summary>
public static class AuditSummary
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> VersionProperties = new();

    public static string Describe(object data) => data switch
    {
        ModelRegistered e => $"model \"{e.Name}\" registered",
        ModelRenamed e => $"renamed \"{e.OldName}\" → \"{e.NewName}\"",
        ModelMetadataEdited e => "model " + Edits(e.Description, e.SetTags, e.RemovedTags, metadataChanged: false),
        ModelArchived => "model archived",
        ModelRestored => "model restored",
        ModelVersionRegistered e => $"version {e.Version} registered in {e.Stage} (sha256 {Short(e.Artifact.Sha256)})",
        ModelVersionMetadataEdited e => $"version {e.Version} " + Edits(e.Description, e.SetTags, e.RemovedTags, e.Metadata is not null),
        ModelVersionStageTransitioned e => $"version {e.Version}: {e.FromStage} → {e.ToStage}",
        ModelAliasAssigned e => e.PreviousVersion is { } previous
            ? $"alias {e.Alias} → version {e.Version} (was version {previous})"
            : $"alias {e.Alias} → version {e.Version}",
        ModelAliasRemoved e => $"alias {e.Alias} removed (was version {e.Version})",
        ModelVersionDeployed e => $"version {e.Version} deployed to {e.Environment}{On(e.Target)}"
                                  + (e.PreviousVersion is { } replaced ? $", replacing version {replaced}" : ""),
        ModelVersionUndeployed e => $"version {e.Version} undeployed from {e.Environment}{On(e.Target)}",
        RollbackPerformed e => $"rolled back to sequence {e.TargetSequence}" + (e.Changes == 1 ? " (1 change)" : $" ({e.Changes} changes)"),
        ModelDeleted e => $"model \"{e.Name}\" deleted (name freed; history kept)",
        ModelVersionDeleted e => $"version {e.Version} deleted from {e.Stage}",
        ModelMetadataSchemaSet e => $"metadata schema set ({SchemaSummary(e.Schema)})",
        ModelMetadataSchemaRemoved => "metadata schema removed",
        Settings.RegistryMetadataSchemaSet e => $"registry metadata schema set ({SchemaSummary(e.Schema)})",
        Settings.RegistryMetadataSchemaRemoved => "registry metadata schema removed",
        Settings.WorkspacePolicySet e => "workspace policy set: lifecycle " + (e.Lifecycle is null ? "from configuration" : "own")
                                         + ", approvals " + (e.Approvals is null ? "from configuration" : "own")
                                         // Only when set, so an event from before these parts reads as it always did.
                                         + (e.RateLimits is null ? "" : ", rate limits own")
                                         + (e.ArtifactQuotaBytes is { } quota ? $", artifact quota {quota} bytes" : ""),
        Settings.WorkspacePolicyRemoved => "workspace policy removed (configuration defaults apply)",
        TransitionRequested e => e.Kind == TransitionKinds.Alias
            ? $"requested alias {e.Target} → version {e.Version} (sha256 {Short(e.Sha256)}; request {e.RequestId}{Owner(e.RequesterOwner, e.RequesterKeyId)})"
            : $"requested version {e.Version} → {e.Target}{(e.ArchiveExisting ? ", archiving the others there" : "")} (sha256 {Short(e.Sha256)}; request {e.RequestId}{Owner(e.RequesterOwner, e.RequesterKeyId)})",
        TransitionApproved e => $"{e.Approver} approved request {e.RequestId} (sha256 {Short(e.Sha256)}{Owner(e.ApproverOwner, e.ApproverKeyId)})"
                                + (e.Completes ? "; the last approval needed, the transition follows" : ""),
        TransitionRejected e => $"{e.RejectedBy} rejected request {e.RequestId}",
        ApiKeyCreated e => $"API key \"{e.Name}\" (id {e.KeyId}) created for {e.Owner}: {Grants(e.Grants)}",
        ApiKeyRevoked e => $"API key \"{e.Name}\" (id {e.KeyId}) of {e.Owner} revoked",
        ApiKeyRecorded e => $"API key \"{e.Name}\" (id {e.KeyId}) recorded at upgrade as its own owner {e.Owner}: {Grants(e.Grants)}; "
                            + $"made by {e.CreatedBy} at {Utc(e.CreatedAt)}"
                            + (e.RevokedAt is { } revoked ? $", revoked by {e.RevokedBy} at {Utc(revoked)}" : ""),
        Webhooks.WebhookSubscriptionCreated e => $"webhook subscription {e.SubscriptionId} created for {e.TargetUrl}: "
                                                 + (e.EventTypes.Count == 0 ? "every model event" : string.Join(", ", e.EventTypes))
                                                 + (e.Model is null ? "" : $" of model \"{e.Model}\"") + $", after sequence {e.StartAfter}",
        Webhooks.WebhookSubscriptionPaused e => $"webhook subscription {e.SubscriptionId} paused: {e.Reason}",
        Webhooks.WebhookSubscriptionResumed e => $"webhook subscription {e.SubscriptionId} resumed",
        Webhooks.WebhookSecretRotated e => $"webhook subscription {e.SubscriptionId}: signing secret rotated",
        Webhooks.WebhookSubscriptionDeleted e => $"webhook subscription {e.SubscriptionId} to {e.TargetUrl} deleted",
        Webhooks.WebhookDeliveriesReplayed e => $"webhook subscription {e.SubscriptionId}: dead letters replayed (sequences {string.Join(", ", e.Sequences)})",
        _ => Generic(data),
    };

    /// <summary>The model version an event concerns, when it names one (any event with an integer <c>Version</c>).</summary>
    public static int? VersionOf(object data)
    {
        var property = VersionProperties.GetOrAdd(data.GetType(), type =>
            type.GetProperty("Version", BindingFlags.Public | BindingFlags.Instance) is { } p
            && (p.PropertyType == typeof(int) || p.PropertyType == typeof(int?)) ? p : null);
        return property?.GetValue(data) as int?;
    }

    /// <summary>The reason recorded in the event itself; for a stage transition or a rollback it wins over the request's reason header.</summary>
    public static string? ReasonOf(object data) => data switch
    {
        ModelVersionStageTransitioned { Reason: { Length: > 0 } reason } => reason,
        RollbackPerformed { Reason: { Length: > 0 } reason } => reason,
        ModelDeleted { Reason: { Length: > 0 } reason } => reason,
        ModelVersionDeleted { Reason: { Length: > 0 } reason } => reason,
        TransitionRejected { Reason: { Length: > 0 } reason } => reason,
        _ => null,
    };

    /// <summary>The model's name after this event, when the event sets it.</summary>
    public static string? NameAfter(object data) => data switch
    {
        ModelRegistered e => e.Name,
        ModelRenamed e => e.NewName,
        _ => null,
    };

    /// <summary>Every name the event mentions for its model.</summary>
    public static IEnumerable<string> NamesIn(object data) => data switch
    {
        ModelRegistered e => [e.Name],
        ModelRenamed e => [e.OldName, e.NewName],
        _ => [],
    };

    private static string Edits(string? description, IReadOnlyDictionary<string, string> setTags, IReadOnlyList<string> removedTags, bool metadataChanged)
    {
        var parts = new List<string>();
        if (description is not null) parts.Add(description.Length == 0 ? "description cleared" : "description set");
        if (setTags.Count > 0) parts.Add("tags set: " + string.Join(", ", setTags.Keys.Order(StringComparer.Ordinal)));
        if (removedTags.Count > 0) parts.Add("tags removed: " + string.Join(", ", removedTags));
        if (metadataChanged) parts.Add("metadata replaced");
        return parts.Count == 0 ? "metadata edited" : "edited: " + string.Join("; ", parts);
    }

    /// <summary>What a schema demands, in a few words: its title if it has one, else its required keys.</summary>
    private static string SchemaSummary(System.Text.Json.JsonElement schema)
    {
        if (schema.ValueKind != System.Text.Json.JsonValueKind.Object) return schema.ValueKind == System.Text.Json.JsonValueKind.True ? "accepts anything" : "accepts nothing";
        var parts = new List<string>();
        if (schema.TryGetProperty("title", out var title) && title.ValueKind == System.Text.Json.JsonValueKind.String)
            parts.Add($"\"{title.GetString()}\"");
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == System.Text.Json.JsonValueKind.Array)
            parts.Add("requires " + (required.GetArrayLength() == 0 ? "nothing" : string.Join(", ", required.EnumerateArray().Select(r => r.ToString()))));
        return parts.Count == 0 ? $"{schema.GetRawText().Length} bytes" : string.Join("; ", parts);
    }

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>Who four eyes took the caller for; nothing for events from before owners, so their summaries read as they did.</summary>
    private static string Owner(string? owner, string? keyId) =>
        owner is null ? "" : $"; owner {owner}" + (keyId is null ? "" : $", key {keyId}");

    private static string Grants(IReadOnlyList<KeyGrant> grants) =>
        string.Join(", ", grants.Select(g => g.ModelId is null && g.Model is null ? g.Role : $"{g.Role} on {g.Model ?? g.ModelId.ToString()}"));

    private static string On(string? target) => target is { Length: > 0 } ? $" ({target})" : "";

    private static string Short(string sha256) => sha256.Length > 12 ? sha256[..12] + "…" : sha256;

    /// <summary>For event types this file does not know yet: "ModelVersionDeployed" → "model version deployed (version 3)".</summary>
    private static string Generic(object data)
    {
        var name = data.GetType().Name;
        var words = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) words.Append(' ');
            words.Append(char.ToLower(name[i], CultureInfo.InvariantCulture));
        }
        return VersionOf(data) is { } version ? $"{words} (version {version})" : words.ToString();
    }
}
