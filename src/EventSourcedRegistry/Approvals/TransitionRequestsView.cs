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
    // Marten hands this projection every event of every stream: a stream without a request (the settings and access
    // streams, a model never asked for a protected move) gets no document, as the one-pass rebuild derives it. A deleted
    // model's requests go with its other current views (its events keep them).
    public override TransitionRequestsView? Evolve(TransitionRequestsView? snapshot, Guid id, IEvent e) =>
        snapshot is null && e.Data is not TransitionRequested || e.Data is Models.ModelDeleted ? null : TransitionRequestsView.Fold(snapshot, id, e.Data);
}
