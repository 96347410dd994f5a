/// The seven basic expressions, in AffectNet's expression-code order (0 Neutral ... 6 Anger).
/// Each dataset stores its own label encoding; see `SynthLayout` and docs/datasets.md.
public enum FaceExpression: Int, CaseIterable, Sendable {
    case neutral = 0, happy, sad, surprise, fear, disgust, anger

    public var name: String {
        switch self {
        case .neutral: return "neutral"
        case .happy: return "happy"
        case .sad: return "sad"
        case .surprise: return "surprise"
        case .fear: return "fear"
        case .disgust: return "disgust"
        case .anger: return "anger"
        }
    }

    /// AffectNet `expression` code (0 Neutral, 1 Happiness, 2 Sadness, 3 Surprise, 4 Fear,
    /// 5 Disgust, 6 Anger).
    public var affectNetCode: Int { rawValue }

    /// RAF-DB basic label, 1-based: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness,
    /// 6 Anger, 7 Neutral.
    public var rafdbLabel: Int {
        switch self {
        case .surprise: return 1
        case .fear: return 2
        case .disgust: return 3
        case .happy: return 4
        case .sad: return 5
        case .anger: return 6
        case .neutral: return 7
        }
    }

    /// SFEW 2.0 class folder name.
    public var sfewFolder: String {
        switch self {
        case .anger: return "Angry"
        case .disgust: return "Disgust"
        case .fear: return "Fear"
        case .happy: return "Happy"
        case .neutral: return "Neutral"
        case .sad: return "Sad"
        case .surprise: return "Surprise"
        }
    }

    /// The face-part settings that carry the expression. Offsets are in local units (one unit is
    /// the image side at scale 1); y grows downwards, so a negative brow raise lowers the brows.
    var shape: ExpressionShape {
        switch self {
        case .neutral:
            return ExpressionShape()
        case .happy:
            return ExpressionShape(browRaise: 0.006, eyeOpen: 0.7, mouthCurve: 0.046, mouthOpen: 0.042,
                                   mouthWidth: 1.25, teeth: true, cheekLift: true)
        case .sad:
            return ExpressionShape(browRaise: 0.002, browInnerTilt: 0.036, eyeOpen: 0.72, mouthCurve: -0.052,
                                   mouthWidth: 0.92, lowerLipPout: true)
        case .surprise:
            return ExpressionShape(browRaise: 0.034, browArch: 0.016, eyeOpen: 1.65, mouthOpen: 0.075,
                                   mouthWidth: 0.62, roundMouth: true)
        case .fear:
            return ExpressionShape(browRaise: 0.022, browInnerTilt: 0.024, eyeOpen: 1.55, mouthCurve: -0.012,
                                   mouthOpen: 0.032, mouthWidth: 1.18, teeth: true)
        case .disgust:
            return ExpressionShape(browRaise: -0.012, browInnerTilt: -0.010, eyeOpen: 0.58, mouthCurve: -0.014,
                                   mouthOpen: 0.014, mouthWidth: 0.95, mouthTilt: 0.030, teeth: true, noseWrinkle: true)
        case .anger:
            return ExpressionShape(browRaise: -0.026, browInnerTilt: -0.042, eyeOpen: 0.55, mouthCurve: -0.018,
                                   mouthWidth: 0.84, lipThickness: 0.5, frownLines: true)
        }
    }
}

/// What an expression does to brows, eyes and mouth. Neutral is all defaults.
struct ExpressionShape {
    var browRaise: Float = 0        // whole brow up (+) or down (-)
    var browInnerTilt: Float = 0    // inner end up (+, sad / fear) or down (-, anger)
    var browArch: Float = 0         // extra lift of the brow's middle
    var eyeOpen: Float = 1          // multiplies the eye opening height
    var mouthCurve: Float = 0       // corners up (+, smile) or down (-)
    var mouthOpen: Float = 0        // gap between the lips
    var mouthWidth: Float = 1       // multiplies the mouth width
    var mouthTilt: Float = 0        // one corner up, the other down (sneer)
    var lipThickness: Float = 1     // pressed lips are thinner
    var teeth = false
    var roundMouth = false          // an "O" instead of a lens
    var cheekLift = false
    var lowerLipPout = false
    var noseWrinkle = false
    var frownLines = false

    /// Neutral + intensity * (self - neutral) for the continuous settings.
    func scaled(_ k: Float) -> ExpressionShape {
        var s = self
        s.browRaise *= k; s.browInnerTilt *= k; s.browArch *= k
        s.eyeOpen = 1 + (eyeOpen - 1) * k
        s.mouthCurve *= k; s.mouthOpen *= k; s.mouthTilt *= k
        s.mouthWidth = 1 + (mouthWidth - 1) * k
        s.lipThickness = 1 + (lipThickness - 1) * k
        return s
    }
}
