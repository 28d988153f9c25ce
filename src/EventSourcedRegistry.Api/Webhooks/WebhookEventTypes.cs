using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>
/// The events a webhook delivers: every event of a model's stream (registration, renames, metadata, versions, stage
/// transitions, aliases, deployments, rollbacks, deletions, the model's metadata schema, and four-eyes requests, approvals
/// and rejections), by the names the store gives them (<c>model_version_stage_transitioned</c>). The registry's own streams
/// (settings, API keys and subscriptions, the workspace directory) are never delivered.
/// </summary>
public sealed class WebhookEventTypes(IDocumentStore store)
{
    public static readonly Type[] Delivered =
    [
        typeof(ModelRegistered), typeof(ModelRenamed), typeof(ModelMetadataEdited), typeof(ModelArchived), typeof(ModelRestored),
        typeof(ModelVersionRegistered), typeof(ModelVersionMetadataEdited), typeof(ModelVersionStageTransitioned),
        typeof(ModelAliasAssigned), typeof(ModelAliasRemoved), typeof(ModelVersionDeployed), typeof(ModelVersionUndeployed),
        typeof(RollbackPerformed), typeof(ModelDeleted), typeof(ModelVersionDeleted),
        typeof(ModelMetadataSchemaSet), typeof(ModelMetadataSchemaRemoved),
        typeof(TransitionRequested), typeof(TransitionApproved), typeof(TransitionRejected),
    ];

    private IReadOnlyList<string>? _names;

    /// <summary>The delivered types' stored names, in the order above.</summary>
    public IReadOnlyList<string> Names => _names ??= Delivered
        .Select(t => store.Options.Events.AllKnownEventTypes().Single(k => k.EventType == t).EventTypeName).ToList();

    /// <summary>The names a model's name is read from (its registration and renames).</summary>
    public IReadOnlyList<string> NamingTypes => [Names[0], Names[1]];
}
