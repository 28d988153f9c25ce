using EventSourcedRegistry.Mlflow;

namespace EventSourcedRegistry.Tests.Mlflow;

/// <summary>The MLflow artifact proxy's path rules (nothing hostile reaches a lookup) and the manifest digest a version binds to.</summary>
public class when_checking_mlflow_artifact_paths
{
    [Theory]
    [InlineData("churn/1/model/MLmodel")]
    [InlineData("churn/1/model")]
    [InlineData("churn")]
    [InlineData("Churn-v2.x/data/python_env.yaml")]
    public void a_relative_path_under_a_model_name_is_accepted(string path) => Assert.Null(MlflowArtifactPaths.Problem(path));

    [Theory]
    [InlineData("")]
    [InlineData("/etc/passwd")]
    [InlineData("churn/../other/1/MLmodel")]
    [InlineData("churn/./MLmodel")]
    [InlineData("..")]
    [InlineData("churn//MLmodel")]
    [InlineData("churn/1/")]
    [InlineData("churn/%2e%2e/x")]
    [InlineData("churn/..%2fx")]
    [InlineData("churn\\..\\x")]
    [InlineData("churn/a\0b")]
    [InlineData("churn/C:")]
    [InlineData(".hidden/x")]
    [InlineData("bad name/x")]
    public void a_hostile_or_malformed_path_is_refused(string path) => Assert.NotNull(MlflowArtifactPaths.Problem(path));

    [Fact]
    public void a_huge_path_or_segment_is_refused()
    {
        Assert.NotNull(MlflowArtifactPaths.Problem("churn/" + new string('a', MlflowArtifactPaths.MaxSegmentLength + 1)));
        Assert.NotNull(MlflowArtifactPaths.Problem("churn/" + string.Join('/', Enumerable.Repeat("abcdefghij", 110))));
    }

    [Theory]
    [InlineData("mlflow-artifacts:/churn/1/model", "churn/1/model")]
    [InlineData("mlflow-artifacts:churn/1/model/", "churn/1/model")]
    [InlineData("mlflow-artifacts://other-host:5000/churn/1/model", null)]
    [InlineData("s3://bucket/churn/1/model", null)]
    [InlineData("mlflow-artifacts:/churn/../x", null)]
    public void only_an_mlflow_artifacts_source_without_a_host_names_a_path_here(string source, string? path) =>
        Assert.Equal(path, MlflowArtifactPaths.PathOf(source));

    /// <summary>
    /// The recorded load_model files: the digest over sorted <c>path\tsha256\n</c> lines, computed independently
    /// (Python's hashlib over the same lines) and pinned, so the documented rule cannot drift.
    /// </summary>
    [Fact]
    public void the_manifest_digest_is_sha256_over_sorted_path_tab_digest_lines()
    {
        (string, string)[] files =
        [
            ("requirements.txt", "b1a8f0a4d2aae9e01582f244dadd434276725eb1db0cea11ca8bcfcbef640eb6"),
            ("python_model.pkl", "a0ed5005d714ec2259466fa19019b8e5ab3fcef273082b2e88ba7a87e8213809"),
            ("MLmodel", "d2839c984ee8591cef055837c930c960f10ea3ceeb7e7e86efd696e34e87b3cb"),
            ("python_env.yaml", "be60288077efdb5f5bc515f292df72da8beaec999b170b7bb11b5603cc23289a"),
            ("conda.yaml", "5bf7ed7cfe41e92ad6a5559101cea078b188ba6e243f6d7a553b58c384631092"),
        ];
        Assert.Equal("73969dc2acf6c566e6a4ee5adb934fe844236909d7ba7e0c7792922da7f26cf2", MlflowArtifactPaths.ManifestDigest(files));
        Assert.Equal(MlflowArtifactPaths.ManifestDigest(files), MlflowArtifactPaths.ManifestDigest(files.Reverse()));
        Assert.NotEqual(MlflowArtifactPaths.ManifestDigest(files), MlflowArtifactPaths.ManifestDigest(files[1..]));
    }
}
