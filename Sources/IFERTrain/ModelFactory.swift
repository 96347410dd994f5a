/// Builds the `ifer` stage's classifier from the config's `model` section.
public func makeClassifier(_ config: RunConfig) throws -> ImageClassifier {
    throw ConfigError.badValue(path: "model", detail: "the IFER classifier is not assembled yet")
}
