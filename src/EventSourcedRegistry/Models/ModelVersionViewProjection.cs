using JasperFx.Events;
using Marten.Events.Projections;

namespace EventSourcedRegistry.Models;

/// <summary>Keeps one <see cref="ModelVersionView"/> per model version inline; an alias move touches two of them.</summary>
public sealed class ModelVersionViewProjection : MultiStreamProjection<ModelVersionView, string>
{
    public ModelVersionViewProjection()
    {
        Identities<ModelVersionRegistered>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelVersionMetadataEdited>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelVersionStageTransitioned>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelAliasAssigned>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelAliasRemoved>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelVersionDeployed>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelVersionUndeployed>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelVersionDeleted>(e => ModelVersionView.KeysOf(e).ToArray());
        Identities<ModelDeleted>(e => ModelVersionView.KeysOf(e).ToArray());
    }

    public override ModelVersionView? Evolve(ModelVersionView? snapshot, string id, IEvent e) =>
        ModelVersionView.Fold(snapshot, id, e.Data);
}
