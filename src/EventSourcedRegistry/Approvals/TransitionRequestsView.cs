using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

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

    /// <summary>
    /// The view after one event: a stream without a request (the settings and access streams, a model never asked for a
    /// protected move) gets no document, as the one-pass rebuild derives it; a deleted model's requests go with its other
    /// current views (its events keep them).
    /// </summary>
    public static TransitionRequestsView? After(TransitionRequestsView? current, Guid modelId, object @event) =>
        current is null && @event is not TransitionRequested || @event is Models.ModelDeleted ? null : Fold(current, modelId, @event);
}

/// <summary>
/// Keeps <see cref="TransitionRequestsView"/> inline. Its own <see cref="IProjection"/> rather than Marten's single-stream
/// projection, which loads the document before folding every event it takes: a stage or alias move can change the view only
/// by superseding a pending request, and the command that appends it knows whether the model has one (its
/// <see cref="Models.ModelView.PendingRequests"/>, read with the stream locked, handed over by <see cref="Decided"/>). With
/// none pending and no new request, the document is neither read nor written (issue 17: one round trip less per
/// promotion or alias move); otherwise it is loaded, folded and written as before. Its stored revision is not read by
/// anything (the model view's is the ETag), so a document left unwritten keeps the one it had.
/// </summary>
public sealed class TransitionRequestsViewProjection : IProjection
{
    /// <summary>The events that can change the view (<see cref="TransitionRequests.Apply"/>, and a model's deletion).</summary>
    public static readonly Type[] EventTypes =
    [
        typeof(TransitionRequested), typeof(TransitionApproved), typeof(TransitionRejected),
        typeof(Models.ModelVersionStageTransitioned), typeof(Models.ModelAliasAssigned), typeof(Models.ModelAliasRemoved),
        typeof(Models.ModelDeleted),
    ];

    private static readonly HashSet<Type> Concerned = [.. EventTypes];

    /// <summary>Per session, the models whose command said none of their requests was pending, at which stream version.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IDocumentOperations, Dictionary<Guid, long>> NonePending = new();

    /// <summary>
    /// A command tells the projection of its session the model it decided against: <paramref name="before"/>, its view at
    /// stream version <paramref name="revision"/>, read with the stream locked. Taken only for an append that begins right
    /// after that version, so a view of another moment is never taken for the state before the append.
    /// </summary>
    public static void Decided(IDocumentOperations session, Models.ModelView before, long revision)
    {
        var known = NonePending.GetValue(session, _ => []);
        if (before.PendingRequests.Count == 0) known[before.Id] = revision;
        else known.Remove(before.Id);
    }

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        NonePending.TryGetValue(operations, out var nonePending);
        // Per stream, in order: the events that concern the view, and the stream version the append began at.
        Dictionary<Guid, (long First, List<object> Data)>? streams = null;
        foreach (var e in events)
        {
            streams ??= [];
            if (!streams.TryGetValue(e.StreamId, out var stream)) streams[e.StreamId] = stream = (e.Version, []);
            if (Concerned.Contains(e.Data.GetType())) stream.Data.Add(e.Data);
        }
        if (streams is null) return;

        List<Guid>? toLoad = null;
        foreach (var (id, (first, data)) in streams)
        {
            if (data.Count == 0) continue;
            var untouched = nonePending is not null && nonePending.TryGetValue(id, out var decidedAt) && decidedAt == first - 1
                            && !data.Exists(d => d is TransitionRequested or TransitionApproved or TransitionRejected);
            if (!untouched) (toLoad ??= []).Add(id);
            else if (data.Exists(d => d is Models.ModelDeleted)) operations.Delete<TransitionRequestsView>(id);
        }
        if (toLoad is null) return;

        var stored = (await operations.LoadManyAsync<TransitionRequestsView>(cancellation, toLoad)).ToDictionary(v => v.Id);
        foreach (var id in toLoad)
        {
            var existed = stored.TryGetValue(id, out var view);
            foreach (var @event in streams[id].Data) view = TransitionRequestsView.After(view, id, @event);
            if (view is not null) operations.Store(view);
            else if (existed) operations.Delete<TransitionRequestsView>(id);
        }
    }
}
