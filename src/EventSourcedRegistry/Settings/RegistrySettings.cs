using System.Text.Json;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace EventSourcedRegistry.Settings;

// Registry-wide settings live in one stream of their own, beside the model streams, so changing them is an event
// with an actor, a time and a reason like any other: it shows in the audit log and the hash chain covers it.

/// <summary>The registry-wide metadata standard: a JSON Schema every new version's metadata must satisfy, in every model.</summary>
public sealed record RegistryMetadataSchemaSet(JsonElement Schema);

/// <summary>The registry no longer has a metadata standard (models' own standards still apply).</summary>
public sealed record RegistryMetadataSchemaRemoved;

/// <summary>The registry-wide settings as they stand now, kept inline from the settings stream.</summary>
public sealed class RegistrySettings
{
    /// <summary>The one settings stream. Fixed, so every node of a cluster finds the same one.</summary>
    public static readonly Guid StreamId = Guid.Parse("e5f0c1a2-0000-4000-8000-000000000001");

    public Guid Id { get; set; } = StreamId;
    public JsonElement? MetadataSchema { get; set; }

    /// <summary>The workspace's own policy; null means every part is the configuration's default.</summary>
    public WorkspacePolicySet? Policy { get; set; }

    /// <summary>Stream version of the settings stream; served as the ETag of the registry's settings.</summary>
    public long Revision { get; set; }

    /// <summary>Events of the settings stream, for the projection's filter and for replays.</summary>
    public static readonly Type[] EventTypes = [
        typeof(RegistryMetadataSchemaSet), typeof(RegistryMetadataSchemaRemoved), typeof(WorkspacePolicySet), typeof(WorkspacePolicyRemoved),
    ];

    public static RegistrySettings Fold(RegistrySettings? current, object @event)
    {
        var settings = current ?? new RegistrySettings();
        switch (@event)
        {
            case RegistryMetadataSchemaSet e:
                settings.MetadataSchema = e.Schema;
                break;
            case RegistryMetadataSchemaRemoved:
                settings.MetadataSchema = null;
                break;
            case WorkspacePolicySet e:
                settings.Policy = e;
                break;
            case WorkspacePolicyRemoved:
                settings.Policy = null;
                break;
        }
        return settings;
    }
}

/// <summary>Keeps <see cref="RegistrySettings"/> inline. Only the settings events reach it, so model streams never load it.</summary>
public sealed class RegistrySettingsProjection : SingleStreamProjection<RegistrySettings, Guid>
{
    public RegistrySettingsProjection()
    {
        foreach (var type in RegistrySettings.EventTypes) IncludeType(type);
    }

    public override RegistrySettings? Evolve(RegistrySettings? snapshot, Guid id, IEvent e)
    {
        var settings = RegistrySettings.Fold(snapshot, e.Data);
        settings.Id = id;
        settings.Revision = e.Version;
        return settings;
    }
}
