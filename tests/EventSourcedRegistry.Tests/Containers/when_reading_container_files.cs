namespace EventSourcedRegistry.Tests.Containers;

/// <summary>The readers the container-file checks rest on: if one of them were wrong, a check could pass falsely.</summary>
public class when_reading_container_files
{
    [Theory]
    [InlineData("**/bin", "bin/x.dll", true)]
    [InlineData("**/bin", "src/Api/bin/Release/x.dll", true)]
    [InlineData("**/bin", "src/Api/binary/x.cs", false)]
    [InlineData("bin", "src/Api/bin/x.dll", false)] // a plain name matches at the context's root only
    [InlineData(".git", ".git/objects/ab/cd", true)]
    [InlineData(".git", ".github/workflows/ci.yml", false)]
    [InlineData("*.md", "README.md", true)]
    [InlineData("*.md", "docs/benchmarks.md", false)]
    [InlineData("**/*.user", "src/Api/Api.csproj.user", true)]
    public void a_pattern_matches_the_path_or_a_directory_above_it(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, new DockerIgnore(pattern).Excludes(path));

    [Fact]
    public void the_last_matching_line_wins_and_an_exclamation_mark_takes_a_path_back()
    {
        var ignore = new DockerIgnore("# everything but the sources\n*\n!src\n**/obj\n");
        Assert.True(ignore.Excludes("tests/x.cs"));
        Assert.False(ignore.Excludes("src/Api/Program.cs"));
        Assert.True(ignore.Excludes("src/Api/obj/project.assets.json"));
    }

    [Theory]
    [InlineData("mcr.microsoft.com/dotnet/sdk:10.0", false)]
    [InlineData("mcr.microsoft.com/dotnet/sdk:10.0-noble", false)]
    [InlineData("mcr.microsoft.com/dotnet/sdk:10.0.401-noble", true)]
    [InlineData("mcr.microsoft.com/azure-storage/azurite", false)]
    [InlineData("mcr.microsoft.com/azure-storage/azurite:latest", false)]
    [InlineData("mcr.microsoft.com/azure-storage/azurite:3.37.0", true)]
    [InlineData("postgres:15", false)]
    [InlineData("postgres:15-trixie", false)]
    [InlineData("postgres:15.19-trixie", true)]
    [InlineData("localhost:5000/registry", false)]
    [InlineData("postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    public void an_image_is_pinned_only_by_a_digest_or_a_full_release_tag(string reference, bool pinned) =>
        Assert.Equal(pinned, ImageReference.Parse(reference).IsPinned(out _));

    [Fact]
    public void an_image_reference_splits_repository_tag_version_and_variant()
    {
        var image = ImageReference.Parse("localhost:5000/dotnet/sdk:10.0.401-noble");
        Assert.Equal("localhost:5000/dotnet/sdk", image.Repository);
        Assert.Equal("10.0.401", image.TagVersion);
        Assert.Equal("noble", image.TagVariant);
    }

    [Theory]
    [InlineData("10.0.401", "latestFeature", "10.0.401", true)]
    [InlineData("10.0.401", "latestFeature", "10.0.405", true)]
    [InlineData("10.0.401", "latestFeature", "10.0.500", true)]
    [InlineData("10.0.401", "latestFeature", "10.0.400", false)]
    [InlineData("10.0.401", "latestFeature", "10.0.301", false)]
    [InlineData("10.0.401", "latestFeature", "11.0.100", false)]
    [InlineData("10.0.401", "latestPatch", "10.0.500", false)]
    [InlineData("10.0.401", "latestPatch", "10.0.402", true)]
    [InlineData("10.0.401", "disable", "10.0.402", false)]
    public void an_sdk_satisfies_global_json_by_its_roll_forward_policy(string requested, string policy, string candidate, bool ok) =>
        Assert.Equal(ok, SdkRollForward.Satisfies(requested, policy, candidate, out _));

    [Fact]
    public void an_unknown_roll_forward_policy_is_refused_rather_than_guessed()
    {
        Assert.False(SdkRollForward.Satisfies("10.0.401", "latestMajor", "10.0.401", out var why));
        Assert.Contains("latestMajor", why);
    }

    [Fact]
    public void a_dockerfile_is_read_with_comments_continuations_flags_and_exec_form()
    {
        var instructions = Dockerfile.Parse("""
            # syntax=docker/dockerfile:1
            FROM mcr.microsoft.com/dotnet/sdk:10.0.401-noble AS build
            COPY --link global.json \
                 Directory.Build.props ./
            # a comment
            COPY ["src/", "src/"]
            COPY --from=build /app .
            """);

        Assert.Equal(["FROM", "COPY", "COPY", "COPY"], instructions.Select(i => i.Keyword));
        Assert.Equal(["global.json", "Directory.Build.props", "./"], instructions[1].Words());
        Assert.Equal(["--link"], instructions[1].Flags());
        Assert.Equal(3, instructions[1].Line);
        Assert.Equal(["src/", "src/"], instructions[2].Words());
        Assert.Equal(["--from=build"], instructions[3].Flags());
    }
}
