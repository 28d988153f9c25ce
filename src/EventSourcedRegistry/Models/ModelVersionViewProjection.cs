using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace EventSourcedRegistry.Models;

/// <summary>
/// Keeps one <see cref="ModelVersionView"/> per model version inline; an alias move touches two of them.
/// <para>
/// Its own <see cref="IProjection"/> rather than a <c>MultiStreamProjection</c>, which loads the stored document of every
/// key an append touches before folding: a registration starts its version's document afresh
/// (<see cref="ModelVersionView.Fold"/> ignores what it is given, and version numbers are never reused), so its key is
/// not loaded — one read less per registration (issue 17: statements per command). Every other key is loaded in one
/// <c>LoadManyAsync</c>, which a command's session answers from its identity map when the command read that version
/// to decide (<c>ModelCommands</c>). Documents are folded and written exactly as the multi-stream projection did:
/// an upsert per key still there afterwards, a delete per stored key folded away.
/// </para>
/// </summary>
public sealed class ModelVersionViewProjection : IProjection
{
    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        // An append is one session, so one workspace: every document is the session's tenant's.
        Dictionary<string, List<object>>? byKey = null;
        foreach (var e in events)
        foreach (var key in ModelVersionView.KeysOf(e.Data))
        {
            byKey ??= new Dictionary<string, List<object>>(StringComparer.Ordinal);
            if (!byKey.TryGetValue(key, out var folded)) byKey[key] = folded = [];
            folded.Add(e.Data);
        }
        if (byKey is null) return;

        var toLoad = byKey.Where(k => k.Value[0] is not ModelVersionRegistered).Select(k => k.Key).ToArray();
        var stored = toLoad.Length == 0
            ? new Dictionary<string, ModelVersionView>(StringComparer.Ordinal)
            : (await operations.LoadManyAsync<ModelVersionView>(cancellation, toLoad)).ToDictionary(v => v.Id, StringComparer.Ordinal);

        foreach (var (key, data) in byKey)
        {
            var existed = stored.TryGetValue(key, out var view);
            foreach (var @event in data) view = ModelVersionView.Fold(view, key, @event);
            if (view is not null) operations.Store(view);
            else if (existed) operations.Delete<ModelVersionView>(key);
        }
    }
}
