using YamlDotNet.RepresentationModel;

namespace EventSourcedRegistry.Tests.Containers;

/// <summary>A mount of a service: a named volume, a bind mount or a tmpfs, at <see cref="Target"/>.</summary>
public sealed record Mount(string Type, string? Source, string Target);

/// <summary>One service of a compose file, read with YamlDotNet (short and long syntax both).</summary>
public sealed class ComposeService(string name, YamlMappingNode node)
{
    public string Name { get; } = name;

    public string? Image => Scalar(node, "image");

    public YamlMappingNode? Build => Child(node, "build") as YamlMappingNode;

    /// <summary>The command as words (a string is split on whitespace, as compose does for this file's plain commands).</summary>
    public IReadOnlyList<string> Command => Child(node, "command") switch
    {
        YamlScalarNode s => (s.Value ?? "").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries),
        YamlSequenceNode seq => seq.Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList(),
        _ => [],
    };

    public IReadOnlyDictionary<string, string> Environment => Child(node, "environment") switch
    {
        YamlMappingNode map => map.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value ?? ""),
        YamlSequenceNode seq => seq.Children.Select(c => ((YamlScalarNode)c).Value ?? "")
            .Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
        _ => new Dictionary<string, string>(),
    };

    public IReadOnlyList<Mount> Volumes => Child(node, "volumes") is YamlSequenceNode seq ? seq.Children.Select(ToMount).ToList() : [];

    /// <summary>depends_on: service → condition (<c>service_started</c> for the list form).</summary>
    public IReadOnlyDictionary<string, string> DependsOn => Child(node, "depends_on") switch
    {
        YamlSequenceNode seq => seq.Children.ToDictionary(c => ((YamlScalarNode)c).Value!, _ => "service_started"),
        YamlMappingNode map => map.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!,
            kv => kv.Value is YamlMappingNode m ? Scalar(m, "condition") ?? "service_started" : "service_started"),
        _ => new Dictionary<string, string>(),
    };

    /// <summary>The named volume whose mount holds <paramref name="path"/> (a file or directory inside the container), or null.</summary>
    public Mount? NamedVolumeHolding(string path) =>
        Volumes.Where(m => m.Type == "volume" && m.Source is { Length: > 0 })
            .FirstOrDefault(m => path == m.Target || path.StartsWith(m.Target.TrimEnd('/') + "/", StringComparison.Ordinal));

    private static Mount ToMount(YamlNode node)
    {
        if (node is YamlMappingNode map)
            return new Mount(Scalar(map, "type") ?? "volume", Scalar(map, "source"), Scalar(map, "target") ?? "");
        var parts = (((YamlScalarNode)node).Value ?? "").Split(':');
        if (parts.Length == 1) return new Mount("volume", null, parts[0]); // an anonymous volume: gone on recreate
        var source = parts[0];
        var bind = source.StartsWith('.') || source.StartsWith('/') || source.StartsWith('~') || source.StartsWith('$');
        return new Mount(bind ? "bind" : "volume", source, parts[1]);
    }

    internal static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    internal static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;
}

public sealed class ComposeFile
{
    private readonly YamlMappingNode _root;

    public ComposeFile(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        _root = (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    public IReadOnlyList<ComposeService> Services =>
        ComposeService.Child(_root, "services") is YamlMappingNode services
            ? services.Children.Select(kv => new ComposeService(((YamlScalarNode)kv.Key).Value!, (YamlMappingNode)kv.Value)).ToList()
            : [];

    public ComposeService Service(string name) =>
        Services.SingleOrDefault(s => s.Name == name) ?? throw new Xunit.Sdk.XunitException($"compose.yml has no service '{name}'.");

    /// <summary>The top-level <c>volumes:</c> keys.</summary>
    public IReadOnlyList<string> DeclaredVolumes =>
        ComposeService.Child(_root, "volumes") is YamlMappingNode volumes ? volumes.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList() : [];
}
