using JasperFx.Events;
using Marten.Events.Aggregation;

namespace EventSourcedRegistry.Models;

/// <summary>Keeps <see cref="ModelView"/> inline: the same transaction that appends a model's events rewrites its view.</summary>
public sealed class ModelViewProjection : SingleStreamProjection<ModelView, Guid>
{
    public override ModelView? Evolve(ModelView? snapshot, Guid id, IEvent e)
    {
        // A stream that does not begin with a registration is not a model (the registry's settings stream): no view.
        if (snapshot is null && e.Data is not ModelRegistered) return null;
        var view = ModelView.Fold(snapshot, e.Data);
        view.Id = id;
        view.Revision = e.Version;
        // Deleted: the view goes (Marten deletes a document whose Evolve returns null), and with it the name's unique index entry.
        return view.Deleted ? null : view;
    }
}
