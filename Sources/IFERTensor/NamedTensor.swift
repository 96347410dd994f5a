/// A tensor with its full dotted key (`encoder.body.0.blocks.1.attn.qkv.weight`): the one
/// named-tensor type that modules list, optimisers walk and checkpoints store.
public typealias NamedTensor = (key: String, tensor: Tensor)
