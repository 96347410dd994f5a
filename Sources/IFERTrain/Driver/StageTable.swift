/// Every training stage by its `train.stage` name: the one table the driver, the command line
/// and `ifer bench step` choose from. Adding a stage is one file plus one line here.
public enum StageTable {
    public static let all: [TrainingStage.Type] = [
        ClassifierStage.self,   // ifer: expression classification (AdamW, mixup / cutmix)
        InversionStage.self,    // asit: the inversion encoder against a frozen generator
        GeneratorStage.self,    // generator: StyleGAN2 from scratch (the asit stage's frozen generator)
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func stage(named name: String) throws -> TrainingStage.Type {
        guard let s = all.first(where: { $0.name == name }) else {
            throw ConfigError.badValue(path: "train.stage", detail: "'\(name)' is not a stage of this build; stages: \(names.joined(separator: ", "))")
        }
        return s
    }
}
