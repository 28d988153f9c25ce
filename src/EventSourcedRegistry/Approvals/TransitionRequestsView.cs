using JasperFx.Events;
using Marten.Events.Aggregation;

namespace EventSourcedRegistry.Approvals;

/// <summary>Every transition request of one model, pending and closed, kept inline (id = the model's id).</summary>
public sealed class TransitionRequestsView
{
    public Guid Id { get; set; }
    public List<TransitionRequest> Requests { get; set; } = [];

    /// <summary>Folds one event. Pure: reads no clock, no store.</summary>
    public static TransitionRequestsView Fold(TransitionRequestsView? current, Guid modelId, object @event)
    {
        var view = current ?? new TransitionRequestsView { Id = modelId };
        TransitionRequests.Apply(view.Requests, @event);
        return view;
    }
}

public sealed class TransitionRequestsViewProjection : SingleStreamProjection<TransitionRequestsView, Guid>
{
    /// <summary>The events that can change the view (<see cref="TransitionRequests.Apply"/>, and a model's deletion).</summary>
    public static readonly Type[] EventTypes =
    [
        typeof(TransitionRequested), typeof(TransitionApproved), typeof(TransitionRejected),
        typeof(Models.ModelVersionStageTransitioned), typeof(Models.ModelAliasAssigned), typeof(Models.ModelAliasRemoved),
        typeof(Models.ModelDeleted),
    ];

    // Only those events reach the projection, so an append of anything else (a version's registration, a deployment, an
    // edit) does not load the model's document first (issue 17: statements per command); the others change nothing in it.
    public TransitionRequestsViewProjection()
    {
        foreach (var type in EventTypes) IncludeType(type);
    }

    // A stream without a request (the settings and access streams, a model never asked for a protected move) gets no
    // document, as the one-pass rebuild derives it. A deleted model's requests go with its other current views (its
    // events keep them).
    public override TransitionRequestsView? Evolve(TransitionRequestsView? snapshot, Guid id, IEvent e) =>
        snapshot is null && e.Data is not TransitionRequested || e.Data is Models.ModelDeleted ? null : TransitionRequestsView.Fold(snapshot, id, e.Data);
}
