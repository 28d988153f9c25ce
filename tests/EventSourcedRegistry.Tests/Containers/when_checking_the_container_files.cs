using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Containers;

/// <summary>
/// docker/Dockerfile and docker/compose.yml, read statically: no Docker engine runs where this project is built and
/// tested, so what the container files promise is checked from their text (issue 19, item 9: the SDK image was
/// unpinned while global.json asks for 10.0.401, there was no .dockerignore, and a recreate lost the audit signing
/// key and every artifact because neither was on a volume).
/// </summary>
public class when_checking_the_container_files
{
    private const string ComposePath = "docker/compose.yml";
    private const string RegistryService = "registry";

    private static ComposeFile Compose() => new(RepositoryFiles.Read(ComposePath));

    /// <summary>The build context and Dockerfile as compose builds the registry (paths relative to the repository root).</summary>
    private static (string Context, string Dockerfile) Build()
    {
        var build = Compose().Service(RegistryService).Build ?? throw new Xunit.Sdk.XunitException("The registry service has no build section.");
        var context = ComposeService.Scalar(build, "context") ?? ".";
        var contextPath = Path.GetFullPath(Path.Combine(RepositoryFiles.PathOf("docker"), context));
        var dockerfile = ComposeService.Scalar(build, "dockerfile") ?? "Dockerfile";
        return (RepositoryFiles.Relative(contextPath), RepositoryFiles.Relative(Path.Combine(contextPath, dockerfile)));
    }

    private static IReadOnlyList<DockerInstruction> Instructions() => Dockerfile.Parse(RepositoryFiles.Read(Build().Dockerfile));

    /// <summary>The images the Dockerfile starts its stages from, leaving out references to its own earlier stages.</summary>
    private static IReadOnlyList<(DockerInstruction From, ImageReference Image)> BaseImages()
    {
        var stages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var images = new List<(DockerInstruction, ImageReference)>();
        foreach (var from in Instructions().Where(i => i.Keyword == "FROM"))
        {
            var words = from.Words();
            if (!stages.Contains(words[0])) images.Add((from, ImageReference.Parse(words[0])));
            if (words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase)) stages.Add(words[2]);
        }
        return images;
    }

    /// <summary>COPY and ADD from the build context (not <c>--from</c> another stage): each source, relative to the context.</summary>
    private static IReadOnlyList<(DockerInstruction Copy, string Source)> CopiedSources() =>
        Instructions()
            .Where(i => i.Keyword is "COPY" or "ADD" && !i.Flags().Any(f => f.StartsWith("--from", StringComparison.Ordinal)))
            .SelectMany(i => i.Words().SkipLast(1).Select(source => (i, ContextPath(source))))
            .ToList();

    /// <summary>A COPY source as a path relative to the context: <c>./src/</c> → <c>src</c>, <c>.</c> and <c>./</c> → <c>.</c>.</summary>
    private static string ContextPath(string source)
    {
        var path = source.Trim();
        while (path.StartsWith("./", StringComparison.Ordinal)) path = path[2..];
        path = path.Trim('/');
        return path is "" or "." ? "." : path;
    }

    [Fact]
    public void every_image_is_pinned_to_a_release()
    {
        var floating = Compose().Services.Where(s => s.Image is not null)
            .Select(s => (Where: $"{ComposePath}, service {s.Name}", Image: ImageReference.Parse(s.Image!)))
            .Concat(BaseImages().Select(b => (Where: $"{Build().Dockerfile}:{b.From.Line}", b.Image)))
            .Select(x => x.Image.IsPinned(out var why) ? null : $"{x.Where}: {x.Image.Repository}: {why}")
            .OfType<string>().ToList();

        Assert.True(floating.Count == 0, "Images that float:\n" + string.Join('\n', floating));
        Assert.NotEmpty(BaseImages());
    }

    [Fact]
    public void the_sdk_image_builds_with_the_sdk_global_json_asks_for()
    {
        using var globalJson = JsonDocument.Parse(RepositoryFiles.Read("global.json"));
        var sdk = globalJson.RootElement.GetProperty("sdk");
        var requested = sdk.GetProperty("version").GetString()!;
        var rollForward = sdk.TryGetProperty("rollForward", out var r) ? r.GetString()! : "latestPatch";

        var image = BaseImages().Select(b => b.Image).SingleOrDefault(i => i.Repository == "mcr.microsoft.com/dotnet/sdk")
                    ?? throw new Xunit.Sdk.XunitException("No stage builds FROM mcr.microsoft.com/dotnet/sdk.");
        Assert.True(image.TagVersion is { } v && v.Split('.').Length == 3, $"The SDK image's tag '{image.Tag}' names no SDK version.");
        Assert.True(SdkRollForward.Satisfies(requested, rollForward, image.TagVersion!, out var why), why);
        // global.json only counts if the build sees it.
        Assert.Contains(CopiedSources(), c => c.Source == "global.json" || c.Source == ".");
    }

    [Fact]
    public void the_runtime_image_runs_the_target_framework_on_the_sdk_images_distribution()
    {
        var targetFramework = XDocument.Parse(RepositoryFiles.Read("Directory.Build.props"))
            .Descendants("TargetFramework").Single().Value; // net10.0
        var images = BaseImages().Select(b => b.Image).ToList();
        var sdk = images.Single(i => i.Repository == "mcr.microsoft.com/dotnet/sdk");
        var runtime = images.Last();

        Assert.Equal("mcr.microsoft.com/dotnet/aspnet", runtime.Repository);
        Assert.True(runtime.TagVersion is { } v && v.Split('.').Length == 3, $"The runtime image's tag '{runtime.Tag}' names no runtime release.");
        Assert.Equal(targetFramework["net".Length..], string.Join('.', runtime.TagVersion!.Split('.').Take(2)));
        Assert.Equal(sdk.TagVariant, runtime.TagVariant);
    }

    [Fact]
    public void every_path_the_dockerfile_copies_is_in_the_build_context()
    {
        var (context, _) = Build();
        var ignore = new DockerIgnore(RepositoryFiles.Read(Path.Combine(context, ".dockerignore")));
        var copied = CopiedSources();
        Assert.NotEmpty(copied);
        foreach (var (copy, source) in copied)
        {
            var path = RepositoryFiles.PathOf(Path.Combine(context, source));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"Line {copy.Line} copies '{source}', which is not in the build context.");
            if (source != ".") Assert.False(ignore.Excludes(source), $"Line {copy.Line} copies '{source}', which .dockerignore leaves out of the context.");
        }
    }

    [Fact]
    public void the_build_stage_copies_every_project_the_published_api_references_and_the_build_settings()
    {
        var publish = Instructions().Single(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        var project = Regex.Match(publish.Arguments, @"dotnet publish\s+(\S+)").Groups[1].Value;
        var projectFile = Directory.Exists(RepositoryFiles.PathOf(project))
            ? Directory.GetFiles(RepositoryFiles.PathOf(project), "*.csproj").Single()
            : RepositoryFiles.PathOf(project);
        var copied = CopiedSources().Select(c => c.Source).ToList();
        bool IsCopied(string relative) => copied.Any(s => s == "." || relative == s || relative.StartsWith(s + "/", StringComparison.Ordinal));

        var missing = ProjectClosure(projectFile).Select(p => RepositoryFiles.Relative(Path.GetDirectoryName(p)!))
            .Concat(["global.json", "Directory.Build.props", "Directory.Packages.props"])
            .Where(f => !IsCopied(f)).ToList();
        Assert.True(missing.Count == 0, $"The build stage publishes {project} but does not copy: " + string.Join(", ", missing));
    }

    [Fact]
    public void the_dockerignore_keeps_build_output_history_and_local_data_out_of_the_context()
    {
        var (context, _) = Build();
        var ignore = new DockerIgnore(RepositoryFiles.Read(Path.Combine(context, ".dockerignore")));
        string[] kept =
        [
            ".git/HEAD",
            "src/EventSourcedRegistry.Api/bin/Release/net10.0/EventSourcedRegistry.Api.dll",
            "src/EventSourcedRegistry/obj/project.assets.json",
            "bin/Debug/x.dll",
            "tools/azurite/node_modules/azurite/package.json",
            "tests/EventSourcedRegistry.Api.Tests/TestResults/run.trx",
            ".data/audit-signing-key.pem",
            ".vs/config",
            "tests/EventSourcedRegistry.Benchmarks/results/latest-full.md",
        ];
        var sent = kept.Where(p => !ignore.Excludes(p)).ToList();
        Assert.True(sent.Count == 0, ".dockerignore sends these into the build context: " + string.Join(", ", sent));
    }

    [Fact]
    public void the_dockerignore_keeps_every_source_file_the_build_copies()
    {
        var (context, _) = Build();
        var ignore = new DockerIgnore(RepositoryFiles.Read(Path.Combine(context, ".dockerignore")));
        var files = CopiedSources().Select(c => RepositoryFiles.PathOf(Path.Combine(context, c.Source)))
            .SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p])
            .Select(RepositoryFiles.Relative)
            .Where(f => !f.Split('/').Any(segment => segment is "bin" or "obj"))
            .ToList();
        Assert.NotEmpty(files);
        var dropped = files.Where(ignore.Excludes).ToList();
        Assert.True(dropped.Count == 0, ".dockerignore leaves out files the build copies: " + string.Join(", ", dropped.Take(10)));
    }

    [Fact]
    public void recreating_the_containers_keeps_the_database_the_signing_key_and_every_artifact()
    {
        var compose = Compose();
        var registry = compose.Service(RegistryService);
        var env = registry.Environment;

        // The database.
        var postgresService = compose.Services.Single(s => s.Image is { } i && ImageReference.Parse(i).Repository == "postgres");
        var postgresImage = ImageReference.Parse(postgresService.Image!);
        var major = int.Parse(postgresImage.TagVersion!.Split('.')[0]);
        var pgData = postgresService.Environment.GetValueOrDefault("PGDATA") ?? (major >= 18 ? "/var/lib/postgresql" : "/var/lib/postgresql/data");
        Assert.True(postgresService.NamedVolumeHolding(pgData) is not null, $"PostgreSQL's data directory {pgData} is on no named volume.");

        // The audit signing key: its default path depends on the container's user, so compose names it.
        var keyPath = env.GetValueOrDefault("Registry__Audit__SigningKeyPath") is { Length: > 0 } k ? k
            : env.GetValueOrDefault("Registry__DataDirectory") is { Length: > 0 } d ? $"{d.TrimEnd('/')}/audit-signing-key.pem"
            : throw new Xunit.Sdk.XunitException("The registry service sets neither Registry__Audit__SigningKeyPath nor Registry__DataDirectory.");
        Assert.True(registry.NamedVolumeHolding(keyPath) is not null,
            $"The audit signing key {keyPath} is on no named volume: a recreated container would make a new key.");

        // The artifacts.
        if (env.GetValueOrDefault("Registry__Artifacts__Backend") == "AzureBlob")
        {
            var endpoint = Regex.Match(env.GetValueOrDefault("Registry__Artifacts__ConnectionString") ?? "", @"BlobEndpoint=https?://([^:/;]+)");
            Assert.True(endpoint.Success, "The Azure backend names no BlobEndpoint in the compose file.");
            var blobs = compose.Service(endpoint.Groups[1].Value);
            var command = blobs.Command.ToList();
            var at = command.FindIndex(w => w is "--location" or "-l");
            Assert.True(at >= 0 && at + 1 < command.Count, $"{blobs.Name} keeps its blobs in its working directory: its command names no --location.");
            Assert.True(blobs.NamedVolumeHolding(command[at + 1]) is not null, $"{blobs.Name}'s blobs ({command[at + 1]}) are on no named volume.");
            Assert.Contains(blobs.Name, registry.DependsOn.Keys);
        }
        else
        {
            var artifacts = env.GetValueOrDefault("Registry__Artifacts__Directory")
                            ?? $"{env.GetValueOrDefault("Registry__DataDirectory")?.TrimEnd('/')}/artifacts";
            Assert.True(registry.NamedVolumeHolding(artifacts) is not null, $"The artifacts ({artifacts}) are on no named volume.");
        }

        var undeclared = compose.Services.SelectMany(s => s.Volumes).Where(m => m.Type == "volume" && m.Source is not null)
            .Select(m => m.Source!).Except(compose.DeclaredVolumes).ToList();
        Assert.True(undeclared.Count == 0, "Volumes used but not declared: " + string.Join(", ", undeclared));
    }

    [Fact]
    public void compose_runs_the_azurite_release_the_tests_run_against()
    {
        using var package = JsonDocument.Parse(RepositoryFiles.Read("tools/azurite/package.json"));
        var pinned = package.RootElement.GetProperty("dependencies").GetProperty("azurite").GetString();
        var image = Compose().Services.Select(s => s.Image).OfType<string>().Select(ImageReference.Parse)
            .Single(i => i.Repository == "mcr.microsoft.com/azure-storage/azurite");
        Assert.Equal(pinned, image.Tag);
    }

    [Fact]
    public void the_registry_starts_once_its_database_answers()
    {
        var compose = Compose();
        var postgres = compose.Services.Single(s => s.Image is { } i && ImageReference.Parse(i).Repository == "postgres");
        Assert.Equal("service_healthy", compose.Service(RegistryService).DependsOn.GetValueOrDefault(postgres.Name));
    }

    /// <summary>The project and every project it references, transitively.</summary>
    private static IReadOnlyList<string> ProjectClosure(string projectFile)
    {
        var seen = new List<string>();
        var pending = new Stack<string>([Path.GetFullPath(projectFile)]);
        while (pending.TryPop(out var project))
        {
            if (seen.Contains(project)) continue;
            seen.Add(project);
            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!,
                    reference.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar))));
        }
        return seen;
    }
}
