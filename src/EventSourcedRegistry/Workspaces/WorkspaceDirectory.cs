using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten.Events.Aggregation;
using Marten.Events.Projections;

namespace EventSourcedRegistry.Workspaces;

// The workspace directory is history like everything else: one stream in the platform tenant (WorkspaceId.Platform)
// whose events create, rename and archive workspaces, so who made which workspace, and when, is in the platform's audit
// log and chain. The slug in each event is the workspace's immutable id (and its Marten tenant id).

/// <summary>A workspace was created: its slug (immutable, the tenant id) and the name people see.</summary>
public sealed record WorkspaceCreated(string Slug, string DisplayName);

/// <summary>A workspace's display name changed; its slug (and so its address and data) did not.</summary>
public sealed record WorkspaceRenamed(string Slug, string DisplayName);

/// <summary>A workspace was archived: it refuses commands from now on, and its history stays readable.</summary>
public sealed record WorkspaceArchived(string Slug);

/// <summary>The platform's directory stream: fixed, so every node finds the same one.</summary>
public static class WorkspaceDirectoryStream
{
    public static readonly Guid Id = Guid.Parse("e5f0c1a2-0000-4000-8000-000000000003");

    public static readonly Type[] EventTypes = [typeof(WorkspaceCreated), typeof(WorkspaceRenamed), typeof(WorkspaceArchived)];
}

/// <summary>One workspace as the directory knows it (a document of the platform tenant, id = slug), kept inline.</summary>
public sealed class WorkspaceView
{
    /// <summary>The slug.</summary>
    public string Id { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The actor who created it (what a retry of the same creation is recognised by).</summary>
    public string? CreatedBy { get; set; }
    public bool Archived { get; set; }
    public DateTimeOffset? ArchivedAt { get; set; }

    /// <summary>Events about this workspace so far: served as its ETag.</summary>
    public long Revision { get; set; }

    /// <summary>Folds one directory event. Pure: the time and actor come from the event's own metadata.</summary>
    public static WorkspaceView? Fold(WorkspaceView? current, object @event, DateTimeOffset at, string? actor)
    {
        switch (@event)
        {
            case WorkspaceCreated created when current is null:
                return new WorkspaceView { Id = created.Slug, DisplayName = created.DisplayName, CreatedAt = at, CreatedBy = actor, Revision = 1 };
            case WorkspaceRenamed renamed when current is not null:
                current.DisplayName = renamed.DisplayName;
                break;
            case WorkspaceArchived when current is not null:
                current.Archived = true;
                current.ArchivedAt ??= at;
                break;
            default:
                return current;
        }
        current.Revision++;
        return current;
    }
}

/// <summary>Keeps one <see cref="WorkspaceView"/> per slug inline, in the transaction that appends the directory event.</summary>
public sealed class WorkspaceViewProjection : MultiStreamProjection<WorkspaceView, string>
{
    public WorkspaceViewProjection()
    {
        Identity<WorkspaceCreated>(e => e.Slug);
        Identity<WorkspaceRenamed>(e => e.Slug);
        Identity<WorkspaceArchived>(e => e.Slug);
    }

    public override WorkspaceView? Evolve(WorkspaceView? snapshot, string id, IEvent e) =>
        WorkspaceView.Fold(snapshot, e.Data, e.Timestamp, e.UserName);
}

/// <summary>
/// The directory stream's head (its revision), kept inline so a change can fetch the stream for exclusive writing
/// (its row locked until commit) without folding the whole directory: changes to the directory take turns.
/// </summary>
public sealed class WorkspaceDirectoryHead
{
    public Guid Id { get; set; } = WorkspaceDirectoryStream.Id;
    public long Revision { get; set; }
}

public sealed class WorkspaceDirectoryHeadProjection : SingleStreamProjection<WorkspaceDirectoryHead, Guid>
{
    public WorkspaceDirectoryHeadProjection()
    {
        foreach (var type in WorkspaceDirectoryStream.EventTypes) IncludeType(type);
    }

    public override WorkspaceDirectoryHead? Evolve(WorkspaceDirectoryHead? snapshot, Guid id, IEvent e) =>
        new() { Id = id, Revision = e.Version };
}
