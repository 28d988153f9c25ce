using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>Table names for the few queries written in SQL (JSON operators LINQ cannot express).</summary>
public static class RegistryTables
{
    public const string ModelView = RegistryStore.Schema + ".mt_doc_modelview";
    public const string ModelVersionView = RegistryStore.Schema + ".mt_doc_modelversionview";
    public const string TransitionRequests = RegistryStore.Schema + ".mt_doc_transitionrequestsview";
    public const string ModelTags = RegistryStore.Schema + "." + EventSourcedRegistry.Models.ModelTagIndex.Table;
}
