// Everything built on IFERModels also sees the layers, the tensor core and the config reader.
@_exported import IFERLayers
@_exported import IFERConfig
